// Browser scenario of operations that reference an architecture
// (docs/libraries.md, "Operations that reference a resource"):
//
//   j  in the digits project (Train and Score take `net: kiln.Architecture`),
//      a second architecture WideCNN is added by a REST patch; user A opens
//      the pipeline, sees "net → DigitsCNN" on Train, selects Train and finds
//      the reference in the inspector; points it at WideCNN (user B's canvas
//      follows), clears it (the warning shows on both), undoes that and
//      points it back at DigitsCNN (the server's tree agrees); follows "Open
//      architecture" to the architecture editor and back; sees `net` listed
//      as a reference (not an attribute) in Train's operation editor; then runs the
//      pipeline from the Run button until every job is green.
//
// Registered in run.mjs (`...refsScenarios(ctx)`); run alone with `--only j`.
import { randomUUID } from 'node:crypto';
import { assert } from './harness.mjs';

/** ctx: { browser, base, api, runner, newPage, poll, allow } */
export function refsScenarios(ctx) {
  const PROJECT = `refs-${Date.now() % 100000}`;
  const { browser, base, api, runner, newPage, poll, allow } = ctx;
  const T = { timeout: 30_000 };

  async function open() {
    const p = await newPage(browser, base, { allow });
    await p.page.goto(`${base}/#/p/${PROJECT}`);
    await p.page.locator('[data-testid=graph-node]').first().waitFor(T);
    await p.page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
    return p;
  }

  const lines = (page, title) => page.locator(`[data-testid=graph-node][data-title="${title}"] [data-testid=node-lines]`);
  const waitLine = (page, title, text) => lines(page, title).filter({ hasText: text }).waitFor(T);

  return {
    async j_operation_references({ skip }) {
      // A fork of the digits example as it ships (other scenarios rename its operations):
      // its second-oldest commit (the oldest is the empty project).
      const history = (await api('/projects/digits/commits?ref=main')).body.commits;
      const forked = await api('/projects', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: PROJECT, from: { project: 'digits', ref: history[history.length - 2].commit } }),
      });
      assert(forked.status === 201, `forked digits as ${PROJECT}, got ${forked.status}`);
      const tree = (await api(`/projects/${PROJECT}/tree`)).body.tree;
      const byName = (name, pred = () => true) => Object.values(tree.nodes).find((n) => n.attrs.name === name && pred(n));
      const digitsCnn = byName('DigitsCNN');
      assert(digitsCnn, 'the digits project has the DigitsCNN architecture');
      const pipeline = byName('Digits classifier');
      const train = Object.values(tree.nodes).find(
        (n) => n.parent === pipeline.guid && tree.nodes[n.base]?.attrs.name === 'Train',
      );
      assert(train?.pointers.net === digitsCnn.guid, `Train's net points at DigitsCNN, got ${train?.pointers.net}`);

      // A second architecture to choose: a copy of DigitsCNN, renamed.
      const wide = randomUUID();
      const made = await api(`/projects/${PROJECT}/branches/main/patches`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          message: 'WideCNN, a copy of DigitsCNN',
          ops: [
            { op: 'copy', node: digitsCnn.guid, parent: digitsCnn.parent, guid: wide },
            { op: 'set_attr', node: wide, name: 'name', value: 'WideCNN' },
          ],
        }),
      });
      assert(made.status === 201, `WideCNN created, got ${made.status} ${JSON.stringify(made.body)}`);

      const a = await open();
      const b = await open();
      const { page } = a;
      await waitLine(page, 'Train', 'net → DigitsCNN');
      await waitLine(page, 'Score', 'net → DigitsCNN');
      await page.locator('[data-testid=graph-node][data-title=Train] .port-node-title').click();
      const select = page.locator('[data-testid=ref-net] select');
      await select.waitFor(T);
      assert((await select.inputValue()) === digitsCnn.guid, 'the inspector shows DigitsCNN');
      const options = await select.locator('option').allTextContents();
      assert(JSON.stringify(options) === JSON.stringify(['none', 'DigitsCNN', 'WideCNN']), `the architectures are offered, got ${options}`);
      await page.screenshot({ path: runner.shotPath('j1-reference') });

      // Another architecture: both canvases follow.
      await select.selectOption({ label: 'WideCNN' });
      await waitLine(page, 'Train', 'net → WideCNN');
      await waitLine(b.page, 'Train', 'net → WideCNN');
      await b.page.screenshot({ path: runner.shotPath('j2-second-browser') });

      // Cleared: the warning, on the canvas of B too; undo brings WideCNN back.
      await select.selectOption({ label: 'none' });
      await page.locator('[data-testid=ref-problem-net]', { hasText: "Train needs an architecture for 'net'" }).waitFor(T);
      await waitLine(b.page, 'Train', 'net → not set');
      await page.screenshot({ path: runner.shotPath('j3-unset-warning') });
      await page.locator('button[title="Undo (Ctrl+Z)"]').click();
      await waitLine(page, 'Train', 'net → WideCNN');

      // And back to DigitsCNN, which the server's tree holds.
      await select.selectOption({ label: 'DigitsCNN' });
      await waitLine(b.page, 'Train', 'net → DigitsCNN');
      await poll(async () => {
        const t = (await api(`/projects/${PROJECT}/tree`)).body.tree;
        return t.nodes[train.guid].pointers.net === digitsCnn.guid;
      }, 'the server to hold net → DigitsCNN');

      // "Open architecture" opens the architecture editor on DigitsCNN.
      await page.locator('[data-testid=open-net]').click();
      await page.waitForURL(new RegExp(`/architecture/${digitsCnn.guid}`), T);
      await page.locator('[data-testid=graph-node]').first().waitFor(T);
      await page.screenshot({ path: runner.shotPath('j4-architecture') });
      await page.goBack();
      await waitLine(page, 'Train', 'net → DigitsCNN');

      // The operation editor lists the reference apart from the attributes.
      await page.locator('.sidebar a[href*="/operation/"]', { hasText: 'Train' }).click();
      await page.locator('[data-testid=interface-references] [data-name=net]').waitFor(T);
      assert((await page.locator('[data-section=attributes] [data-name=net]').count()) === 0, 'net is not an attribute');
      await page.screenshot({ path: runner.shotPath('j5-operation-editor') });
      await page.goBack();
      await waitLine(page, 'Train', 'net → DigitsCNN');

      // Run it from the UI: every job green (Train gets DigitsCNN's class).
      const executions = await api(`/projects/${PROJECT}/executions`);
      if (executions.status !== 200) {
        skip('the server has no executions API');
        return;
      }
      await page.locator('[data-testid=run]').click();
      await page.locator('[data-testid=execution-state]').waitFor({ timeout: 90_000 });
      await page.locator('[data-testid=execution-state]:has-text("succeeded")').waitFor({ timeout: 360_000 });
      const states = await page.locator('[data-testid=graph-node]').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-status')));
      assert(states.length === 4 && states.every((s) => s === 'succeeded' || s === 'cached'), `all jobs green, got ${states}`);
      await page.screenshot({ path: runner.shotPath('j6-run-succeeded') });
      assert(a.errors.length === 0, `no console errors in A:\n${a.errors.join('\n')}`);
      assert(b.errors.length === 0, `no console errors in B:\n${b.errors.join('\n')}`);
    },
  };
}
