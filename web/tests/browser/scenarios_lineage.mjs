// Browser scenario of lineage, compare and reify (docs/provenance.md,
// web/src/provenance/):
//
//   l  a fork of the digits example (Train's epochs set to 2 to keep it
//      short) runs to green from the Run button; the trained model's
//      "Lineage" in the artifacts view draws LoadDigits → Split → Train →
//      model; a click on Train shows the code it ran and its attributes; the
//      direction toggle walks down from the model; epochs is changed to 3 in
//      the inspector and the pipeline runs again; "Compare lineage with…" on
//      the first model, picking the second, shows both lineages with Train
//      marked and "epochs: 2 → 3" among the differences; "Make a pipeline from
//      this" on the first model creates branch reproduce-<digest8>, opens the
//      new pipeline there, and its run is all cache hits.
//
// Registered in run.mjs (`...lineageScenarios(ctx)`); run alone with `--only l`.
import { assert } from './harness.mjs';

/** ctx: { browser, base, api, runner, newPage, poll, allow } */
export function lineageScenarios(ctx) {
  const PROJECT = `lineage-${Date.now() % 100000}`;
  const { browser, base, api, runner, newPage, poll, allow } = ctx;
  const T = { timeout: 30_000 };
  const RUN = { timeout: 360_000 };
  const json = (method, body) => ({ method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  /** Presses Run on the open pipeline and waits for the execution to succeed; returns its id. */
  async function runToGreen(page) {
    await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
    await page.locator('[data-testid=run]').click();
    await page.waitForURL(/\/executions\/[^/?]+/, T);
    await page.locator('[data-testid=execution-state]:has-text("succeeded")').waitFor(RUN);
    return decodeURIComponent(page.url().match(/\/executions\/([^/?]+)/)[1]);
  }

  /** The models in the artifacts view, newest first, as digests. */
  async function models(page) {
    await page.goto(`${base}/#/p/${PROJECT}/artifacts`);
    await page.locator('[data-testid=artifact-model]').first().waitFor(T);
    return page.locator('[data-testid=artifact-model] code[title]').evaluateAll((cs) => cs.map((c) => c.getAttribute('title')));
  }

  const node = (page, title) => page.locator(`.react-flow__node:has([data-testid=graph-node][data-title="${title}"])`);

  return {
    async l_lineage_compare_reify({ skip }) {
      const spec = await api('/openapi.json');
      if (!JSON.stringify(spec.body ?? {}).includes('/provenance')) {
        skip('this server has no provenance routes yet');
        return;
      }
      if ((await api('/projects/digits/executions')).status !== 200) {
        skip('the server has no executions API');
        return;
      }
      // A fork of the digits example as it ships: its second-oldest commit (the oldest is the empty project).
      const history = (await api('/projects/digits/commits?ref=main')).body.commits;
      const forked = await api('/projects', json('POST', { name: PROJECT, from: { project: 'digits', ref: history[history.length - 2].commit } }));
      assert(forked.status === 201, `forked digits as ${PROJECT}, got ${forked.status}`);
      const tree = (await api(`/projects/${PROJECT}/tree`)).body.tree;
      const pipeline = Object.values(tree.nodes).find((n) => n.attrs.name === 'Digits classifier');
      const train = Object.values(tree.nodes).find((n) => n.parent === pipeline.guid && tree.nodes[n.base]?.attrs.name === 'Train');
      assert(train, 'the digits pipeline has a Train instance');
      const short = await api(
        `/projects/${PROJECT}/branches/main/patches`,
        json('POST', { message: 'Train for 2 epochs', ops: [{ op: 'set_attr', node: train.guid, name: 'epochs', value: 2 }] }),
      );
      assert(short.status === 201, `epochs set to 2, got ${short.status} ${JSON.stringify(short.body)}`);

      const { page, errors } = await newPage(browser, base, { allow });
      await page.goto(`${base}/#/p/${PROJECT}/pipeline/${pipeline.guid}`);
      await page.locator('[data-testid=graph-node]').first().waitFor(T);
      await runToGreen(page);

      // The model's lineage, from the artifacts view.
      const [first] = await models(page);
      assert(/^[0-9a-f]{64}$/.test(first ?? ''), `the model is listed with its digest, got ${first}`);
      await page.locator('[data-testid=artifact-model] [data-testid=artifact-lineage]').first().click();
      await page.locator('[data-testid=lineage-view]').waitFor(T);
      for (const title of ['LoadDigits', 'Split', 'Train', 'model']) await node(page, title).first().waitFor(T);
      assert((await node(page, 'Score').count()) === 0, 'Score did not make the model: not in its lineage');
      const title = await page.locator('[data-testid=lineage-title]').innerText();
      assert(title.includes(first.slice(0, 10)), `the view names the model, got "${title}"`);
      const prov = await page.locator('[data-testid=prov-download]').getAttribute('href');
      const provDoc = await fetch(new URL(prov, base)).then((r) => r.json());
      assert(provDoc.entity && provDoc.activity, `the PROV-JSON link answers entities and activities, got ${JSON.stringify(provDoc).slice(0, 200)}`);
      await page.screenshot({ path: runner.shotPath('l1-lineage') });

      // A job: the code it ran and its attributes.
      await node(page, 'Train').locator('.port-node-title').click();
      await page.locator('[data-testid=lineage-job]').waitFor(T);
      await poll(async () => (await page.locator('[data-testid=lineage-code] .cm-content').innerText()).includes('class Train'), 'Train’s code');
      const attrs = await page.locator('[data-testid=lineage-attributes]').innerText();
      assert(/epochs\s+2/.test(attrs), `the attributes say epochs 2, got "${attrs}"`);
      await page.screenshot({ path: runner.shotPath('l2-lineage-job') });
      await page.getByRole('tab', { name: /Console/ }).click();
      await page.locator('[data-testid=lineage-job] [data-testid=job-panel]').waitFor(T);

      // Down from the model: nothing but Score used it.
      await page.locator('[data-testid=direction-down]').click();
      await node(page, 'Score').first().waitFor(T);
      await page.locator('[data-testid=direction-up]').click();
      await node(page, 'LoadDigits').first().waitFor(T);

      // A second run with another epochs, set in the inspector.
      await page.goto(`${base}/#/p/${PROJECT}/pipeline/${pipeline.guid}`);
      await page.locator('[data-testid=graph-node][data-title=Train] .port-node-title').click();
      const epochs = page.locator('[data-testid=attr-epochs] input');
      await epochs.waitFor(T);
      await epochs.fill('3');
      await epochs.press('Enter');
      await poll(async () => (await api(`/projects/${PROJECT}/tree`)).body.tree.nodes[train.guid].attrs.epochs === 3, 'epochs = 3 on the server');
      await runToGreen(page);

      // Compare the two models' lineages, from the first one's row.
      const both = await models(page);
      assert(both.length === 2 && both.includes(first), `two models, the first among them, got ${both}`);
      const second = both.find((d) => d !== first);
      const row = page.locator('[data-testid=artifact-model]', { has: page.locator(`code[title="${first}"]`) });
      await row.locator('[data-testid=artifact-compare]').click();
      await page.locator(`[data-testid=compare-with-${second}]`).click();
      await page.locator('[data-testid=lineage-differences]').waitFor(T);
      const trainDiff = page.locator('[data-testid=job-diff][data-job=Train]');
      await trainDiff.waitFor(T);
      const changed = await trainDiff.locator('[data-testid=diff-attribute]').allInnerTexts();
      assert(changed.includes('epochs: 2 → 3'), `the epochs change is shown, got ${changed}`);
      const causes = await page.locator('[data-testid=lineage-causes]').innerText();
      assert(/Train changed: epochs: 2 → 3/.test(causes), `the cause is named, got "${causes}"`);
      assert((await page.locator('[data-testid=job-diff][data-job=Split]').count()) === 0, 'Split is the same on both sides');
      // What the two trainings logged (Train's loss curve), last values side by side.
      await trainDiff.locator('[data-testid=diff-metric]').first().waitFor(T);
      const marked = await page.locator('.remote-tag', { hasText: 'changed' }).count();
      assert(marked === 2, `Train is marked on both sides, got ${marked}`);
      await page.screenshot({ path: runner.shotPath('l3-compare') });

      // Reify the first model onto a branch and run it: every job a cache hit.
      await page.goto(`${base}/#/p/${PROJECT}/lineage/${first}`);
      await node(page, 'Train').first().waitFor(T);
      await page.locator('[data-testid=reify]').click();
      const branch = page.locator('[data-testid=reify-branch]');
      await branch.waitFor(T);
      assert((await branch.inputValue()) === `reproduce-${first.slice(0, 8)}`, `the branch is proposed, got ${await branch.inputValue()}`);
      await branch.fill('no spaces please');
      await page.locator('[data-testid=reify-problem]').waitFor(T);
      assert(await page.locator('[data-testid=reify-submit]').isDisabled(), 'a bad name cannot be sent');
      await branch.fill(`reproduce-${first.slice(0, 8)}`);
      await page.locator('[data-testid=reify-submit]').click();
      await page.locator('[data-testid=reify-open]').waitFor(T);
      await page.screenshot({ path: runner.shotPath('l4-reified') });
      await page.locator('[data-testid=reify-open]').click();
      await page.waitForURL(new RegExp(`/pipeline/[^?]+\\?branch=reproduce-${first.slice(0, 8)}`), T);
      await page.locator('[data-testid=graph-node][data-title=Train]').waitFor(T);
      const execution = await runToGreen(page);
      const jobs = (await api(`/executions/${execution}`)).body.jobs;
      const ran = jobs.filter((j) => ['LoadDigits', 'Split', 'Train'].includes(j.name));
      assert(ran.length === 3 && ran.every((j) => j.state === 'cached'), `the reified run is all cache hits, got ${JSON.stringify(jobs.map((j) => [j.name, j.state]))}`);
      await page.screenshot({ path: runner.shotPath('l5-reified-run') });
      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
