// Browser scenarios of collaboration and history (issue 10, items 6–8), run by
// run.mjs on its server. They work on "collab", a fork of digits made on
// first use, so what the other scenarios did to digits does not matter.
//
//   collab_code_conflict    two users edit Score's code; the one who saves
//                           second is asked instead of overwriting, opens the
//                           three-way view and saves the merge of both
//   collab_attribute_order  attributes keep the code's order after a reload
//                           (the example's, and one written by a code save);
//                           the inspector pans the selected node into sight
//   collab_attribute_conflict  an attribute set by someone else while you
//                           type in it asks (keep theirs / keep mine)
//   collab_restore          the history names a renamed operation by its name
//                           now; "Restore…" brings the tree back to the fork's
//                           first commit in one new commit; runs show on the
//                           commits they ran (when scenario d made some)
import { assert, newPage } from './harness.mjs';

const PROJECT = 'collab';

export function collabScenarios({ browser, base, api, runner, poll, allow }) {
  const post = (path, body) =>
    api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const tree = async (ref = 'main') => (await api(`/projects/${PROJECT}/tree?ref=${encodeURIComponent(ref)}`)).body.tree;
  const definition = (t, name) =>
    Object.values(t.nodes).find((n) => n.attrs.name === name && typeof n.attrs.code === 'string');

  async function ensureFork() {
    const r = await post('/projects', { name: PROJECT, from: { project: 'digits' } });
    assert(r.status === 201 || r.status === 409, `forked digits as ${PROJECT} (${r.status})`);
  }

  /** The title of the pipeline's instance of a definition (other scenarios rename instances of digits). */
  const instanceTitle = (t, defName) => {
    const def = definition(t, defName);
    const inst = Object.values(t.nodes).find((n) => n.base === def.guid);
    return String(inst?.attrs.name ?? defName);
  };
  const nodeTitle = (page, title) => page.locator(`[data-testid=graph-node][data-title="${title}"] .port-node-title`);

  /** The inspector's attribute names, top to bottom. */
  const inspectorOrder = (page) =>
    page
      .locator('[data-testid=inspector] .field.attr')
      .evaluateAll((ns) => ns.map((n) => n.getAttribute('data-testid').slice('attr-'.length)));

  async function openPipeline(page) {
    await page.goto(`${base}/#/p/${PROJECT}`);
    await page.locator('[data-testid=graph-node]').first().waitFor();
    await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor();
  }

  return {
    async collab_code_conflict() {
      await ensureFork();
      const score = definition(await tree(), 'Score');
      assert(score, 'the fork has a Score definition');
      const a = await newPage(browser, base, { allow });
      const b = await newPage(browser, base, { allow });
      for (const p of [a.page, b.page]) {
        await p.goto(`${base}/#/p/${PROJECT}/operation/${score.guid}`);
        await p.locator('.cm-content').waitFor();
        await p.locator('[data-testid=interface-state][data-state=ok]').waitFor({ timeout: 60_000 });
      }
      // A starts a change at the top and does not save yet.
      await a.page.locator('.cm-content').click();
      await a.page.keyboard.press('Control+Home');
      await a.page.keyboard.type('# mine: at the top\n');
      // B changes the end and saves.
      await b.page.locator('.cm-content').click();
      await b.page.keyboard.press('Control+End');
      await b.page.keyboard.type('# theirs: at the end\n');
      await b.page.keyboard.press('Control+s');
      const code = async () => String(definition(await tree(), 'Score')?.attrs.code ?? '');
      await poll(async () => (await code()).includes('# theirs: at the end'), "B's code on the server");

      // A is told, and Save asks instead of overwriting B's change.
      await a.page.locator('.conflict:has-text("Someone else changed this code")').waitFor();
      await a.page.locator('[data-testid=save-code]').click();
      await a.page.getByRole('dialog', { name: 'Someone else changed this code' }).waitFor();
      await a.page.locator('[data-testid=collision-both]').waitFor(); // the changes do not overlap
      await a.page.screenshot({ path: runner.shotPath('collab1-save-asks') });
      const stored = await code();
      assert(stored.includes('# theirs: at the end') && !stored.includes('# mine'), 'nothing was overwritten while asking');

      // The three-way view shows both against the base; A saves the merge.
      await a.page.locator('[data-testid=collision-three-way]').click();
      await a.page.locator('[data-testid=three-way-theirs] .tw-changed:has-text("# theirs: at the end")').waitFor();
      await a.page.locator('[data-testid=three-way-mine] .tw-changed:has-text("# mine: at the top")').waitFor();
      await a.page.screenshot({ path: runner.shotPath('collab2-three-way') });
      await a.page.locator('[data-testid=use-merge]').click();
      await a.page.locator('[data-testid=save-code]').click();
      await poll(async () => {
        const c = await code();
        return c.startsWith('# mine: at the top') && c.includes('# theirs: at the end');
      }, 'both changes on the server');
      // B had nothing unsaved: its editor follows.
      await poll(async () => (await b.page.locator('.cm-content').innerText()).includes('# mine: at the top'), 'B sees the merge');
      const errs = [...a.errors, ...b.errors];
      assert(errs.length === 0, `no console errors:\n${errs.join('\n')}`);
    },

    async collab_attribute_order() {
      await ensureFork();
      const { page, errors } = await newPage(browser, base, { allow });
      await openPipeline(page);

      // The example's Train, in its code's order (not alphabetical).
      await page.keyboard.press('f');
      await page.waitForTimeout(400);
      const names = await tree();
      await nodeTitle(page, instanceTitle(names, 'Train')).click();
      await page.locator('[data-testid=inspector]').waitFor();
      const train = await inspectorOrder(page);
      const trainOrder = ['epochs', 'learning_rate', 'batch_size', 'seed'];
      assert(JSON.stringify(train) === JSON.stringify(trainOrder), `Train's attributes in code order, got ${train}`);
      const recordedTrain = definition(names, 'Train').registry?.attributeOrder;
      assert(JSON.stringify(recordedTrain) === JSON.stringify(trainOrder), `examples/build.py recorded the order, got ${recordedTrain}`);
      // Score, the rightmost node, is where the inspector will float: once
      // selected (with the inspector closed first), it is panned into sight.
      await page.keyboard.press('Escape');
      await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
      await page.locator('[data-testid=inspector]').waitFor({ state: 'detached' });
      const score = instanceTitle(names, 'Score');
      await nodeTitle(page, score).click();
      await page.waitForTimeout(600); // the pan's animation
      const node = await page.locator(`.react-flow__node:has([data-title="${score}"])`).boundingBox();
      const inspector = await page.locator('[data-testid=inspector]').boundingBox();
      assert(node && inspector && node.x + node.width <= inspector.x, `Score is not under the inspector (${JSON.stringify({ node, inspector })})`);
      await page.screenshot({ path: runner.shotPath('collab3-inspector-reveals') });

      // A code save with parameters out of alphabetical order.
      const split = definition(await tree(), 'Split');
      const code = String(split.attrs.code).replace(/def __init__\(self, /, 'def __init__(self, zeta=1, ');
      const signature = /def __init__\(self, ([^)]*)\)/.exec(code)[1];
      const expected = signature.split(',').map((p) => p.trim().split(/[:=\s]/)[0]);
      await page.goto(`${base}/#/p/${PROJECT}/operation/${split.guid}`);
      await page.locator('[data-testid=interface-state][data-state=ok]').waitFor({ timeout: 60_000 });
      await page.locator('.cm-content').click();
      await page.keyboard.press('Control+a');
      await page.keyboard.insertText(code);
      await page.locator('[data-testid=save-code]').click();
      await poll(async () => definition(await tree(), 'Split')?.attrs.zeta === 1, 'zeta on the server', 60_000);
      const recorded = definition(await tree(), 'Split').registry.attributeOrder;
      assert(JSON.stringify(recorded) === JSON.stringify(expected), `the order recorded: ${recorded}, expected ${expected}`);

      // After a reload, the instance lists them as written.
      await page.reload();
      await openPipeline(page);
      await nodeTitle(page, instanceTitle(names, 'Split')).click();
      await page.locator('[data-testid=inspector]').waitFor();
      const got = await inspectorOrder(page);
      assert(JSON.stringify(got) === JSON.stringify(expected), `Split's attributes after a reload: ${got}, expected ${expected}`);
      await page.screenshot({ path: runner.shotPath('collab4-attribute-order') });
      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },

    async collab_attribute_conflict() {
      await ensureFork();
      const { page, errors } = await newPage(browser, base, { allow });
      await openPipeline(page);
      const t = await tree();
      const title = instanceTitle(t, 'Train');
      const train = Object.values(t.nodes).find((n) => n.attrs.name === title && n.base === definition(t, 'Train').guid);
      await nodeTitle(page, title).click();
      const field = page.locator('[data-testid=attr-seed] input');
      await field.fill('11'); // typed, not committed yet
      // Someone else sets the same attribute meanwhile.
      const other = await post(`/projects/${PROJECT}/branches/main/patches`, {
        message: `Set seed of ${title}`,
        ops: [{ op: 'set_attr', node: train.guid, name: 'seed', value: 22 }],
      });
      assert(other.status === 201, `the other edit (${other.status})`);
      await page.locator('[data-testid=collision-seed]').waitFor();
      assert((await field.inputValue()) === '11', 'the typing is kept');
      await field.press('Enter'); // committing asks instead of overwriting
      const seed = async () => (await tree()).nodes[train.guid].attrs.seed;
      assert((await seed()) === 22, 'theirs is not overwritten by Enter');
      await page.screenshot({ path: runner.shotPath('collab7-attribute-collision') });
      await page.locator('[data-testid=collision-seed] [data-testid=keep-mine]').click();
      await poll(async () => (await seed()) === 11, 'mine on the server once chosen');
      await page.locator('[data-testid=collision-seed]').waitFor({ state: 'detached' });
      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },

    async collab_restore() {
      await ensureFork();
      const commits = (await api(`/projects/${PROJECT}/commits?ref=main`)).body.commits;
      const first = commits[commits.length - 1];
      assert(commits.length >= 2, `edits since the fork, got ${commits.length} commits`);
      // Rename Score behind the history's back: its old commits name it as now.
      const head = await tree();
      const score = definition(head, 'Score');
      const renamed = await post(`/projects/${PROJECT}/branches/main/patches`, {
        message: 'Rename Score to Assess',
        ops: [{ op: 'set_attr', node: score.guid, name: 'name', value: 'Assess' }],
      });
      assert(renamed.status === 201, `renamed (${renamed.status})`);

      const { page, errors } = await newPage(browser, base, { allow });
      await page.goto(`${base}/#/p/${PROJECT}/history`);
      await page.locator('[data-testid=commit]').nth(1).waitFor();
      await page.locator('.name-now:has-text("Assess")').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: runner.shotPath('collab5-history-names') });

      const rows = page.locator('[data-testid=commit]');
      const n = await rows.count();
      await rows.nth(n - 1).locator('[data-testid=restore-commit]').click();
      await page.locator('[data-testid=restore-confirm]').click();
      await page.locator('[data-testid=commit]').first().locator('.commit-message:has-text("Restore the version")').waitFor();
      const [now, then] = await Promise.all([tree('main'), tree(first.commit)]);
      assert(JSON.stringify(now) === JSON.stringify(then), 'the tree is the first commit’s again');
      const after = (await api(`/projects/${PROJECT}/commits?ref=main`)).body.commits;
      assert(after.length === commits.length + 2, 'one commit for the rename, one for the restore; nothing rewritten');
      await page.screenshot({ path: runner.shotPath('collab6-restored') });

      // Runs (run/… tags, made by scenario d on digits) show on their commits.
      const tags = (await api('/projects/digits/tags')).body.tags ?? [];
      const run = tags.find((t) => t.name.startsWith('run/'));
      if (run) {
        await page.goto(`${base}/#/p/digits/history`);
        const chip = page.locator('[data-testid=run-tag]').first();
        await chip.waitFor();
        assert(/#\/p\/digits\/executions\//.test(await chip.getAttribute('href')), 'a run links to its execution');
        await page.screenshot({ path: runner.shotPath('collab8-history-runs') });
      }
      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
