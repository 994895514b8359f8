// Browser scenario of sweeps (issue 16, docs/sweeps.md): started from the
// pipeline editor, followed live, read as a table and a parallel-coordinates
// plot.
//
//   m  on a fork of digits, "Sweep…" beside Run: ticks Train's epochs, a bad
//      value is refused with a message and the start button stays off, then
//      "1, 2" shows "2 trials"; starts it and lands on the sweep's view, which
//      follows it to the end; the table has a row per trial with its epochs and
//      final metrics and a best row, the plot a line per trial (screenshot); a
//      trial opens its execution; the executions list shows the sweep and marks
//      its trials. Skipped while the server has no sweep routes.
//
// Registered in run.mjs (`...sweepScenarios(ctx)`).
import { assert } from './harness.mjs';

/** ctx: { browser, base, api, runner, newPage, allow } */
export function sweepScenarios(ctx) {
  const { base, api, runner } = ctx;
  const T = { timeout: 60_000 };
  const json = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  return {
    async m_sweep_from_the_editor({ skip }) {
      const spec = await api('/openapi.json');
      if (!spec.body?.paths?.['/api/v1/projects/{p}/sweeps'] && !Object.keys(spec.body?.paths ?? {}).some((p) => p.endsWith('/sweeps')))
        return skip('this server has no sweep routes yet (GET /api/v1/openapi.json lists no …/sweeps)');
      // A fork of the digits example as it ships: its second-oldest commit (the
      // oldest is the empty project); other scenarios edit digits itself.
      const history = (await api('/projects/digits/commits?ref=main')).body.commits;
      const forked = await api(
        '/projects',
        json({ name: 'digits-sweep', from: { project: 'digits', ref: history[history.length - 2].commit } }),
      );
      assert(forked.status === 201, `digits forked, got ${forked.status}`);

      const { page, errors } = await ctx.newPage(ctx.browser, base, { allow: ctx.allow });
      await page.goto(`${base}/#/p/digits-sweep`);
      await page.locator('[data-testid=graph-node]').first().waitFor(T);
      await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);

      // The dialog: Train's epochs, a bad value first.
      await page.locator('[data-testid=sweep]').click();
      const dialog = page.locator('[data-testid=sweep-dialog]');
      await dialog.waitFor(T);
      await dialog.locator('[data-testid="sweep-pick-Train.epochs"]').check();
      const values = dialog.locator('[data-testid="sweep-values-Train.epochs"]');
      await values.fill('1, x');
      const problem = await dialog.locator('.field-error').first().innerText();
      assert(problem === 'Train.epochs: “x” is not a whole number', `the bad value is named, got "${problem}"`);
      assert(await page.locator('[data-testid=sweep-start]').isDisabled(), 'no start with a bad value');
      await values.fill('1, 2');
      await page.locator('[data-testid=sweep-trials]:has-text("2 trials")').waitFor(T);
      await page.screenshot({ path: runner.shotPath('m1-sweep-dialog') });
      await page.locator('[data-testid=sweep-start]').click();

      // The sweep's view, live until both trials ended.
      await page.locator('[data-testid=sweep-view]').waitFor(T);
      assert(/#\/p\/digits-sweep\/sweeps\//.test(page.url()), `the sweep's route, got ${page.url()}`);
      await page.locator('[data-testid=sweep-state]:not(:has-text("running"))').waitFor({ timeout: 420_000 });
      // textContent: the pill capitalises what it shows.
      const state = (await page.locator('[data-testid=sweep-state]').textContent())?.trim();
      assert(state === 'succeeded', `the sweep succeeded, got ${state}`);

      // The table: a row per trial, its epochs, its metrics, one best row.
      const rows = page.locator('[data-testid=trial-row]');
      await rows.nth(1).waitFor(T);
      assert((await rows.count()) === 2, `two trials, got ${await rows.count()}`);
      const epochs = await page.locator('[data-testid=trial-row] td[data-key="param:Train.epochs"]').allInnerTexts();
      assert(epochs.slice().sort().join() === '1,2', `epochs 1 and 2, got ${epochs}`);
      const metricCells = await page.locator('[data-testid=trial-row] td[data-key^="metric:"]').allInnerTexts();
      assert(metricCells.length >= 2 && metricCells.every((t) => t !== '–'), `every final metric filled, got ${metricCells}`);
      assert((await page.locator('[data-testid=trial-row].best').count()) === 1, 'one best row');
      const objective = await page.locator('[data-testid=objective-metric]').inputValue();
      assert(/loss|acc/i.test(objective), `a loss or an accuracy judges by default, got "${objective}"`);

      // Sorting by epochs, descending on the second click.
      const head = page.locator('[data-testid=trials] th:has-text("Train.epochs")');
      await head.click();
      await head.click();
      const sorted = await page.locator('[data-testid=trial-row] td[data-key="param:Train.epochs"]').allInnerTexts();
      assert(sorted.join() === '2,1', `sorted by epochs descending, got ${sorted}`);

      // The plot: a line per trial (the best drawn thicker).
      const lines = page.locator('[data-testid=parcoords] polyline');
      assert((await lines.count()) >= 2, `a line per trial, got ${await lines.count()}`);
      const axes = await page.locator('[data-testid=parcoords] .parcoords-axis').count();
      assert(axes >= 2, `an axis for epochs and one for the objective, got ${axes}`);
      await page.locator('[data-testid=compare-chart]').first().waitFor(T);
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('m2-sweep-view'), fullPage: true });

      // A trial opens its execution.
      const execution = await rows.first().getAttribute('data-execution');
      await rows.first().locator('a').first().click();
      await page.waitForURL(new RegExp(`/executions/${execution}`), T);

      // The executions list: the sweep, and its trials marked.
      await page.locator('.sidebar a:has-text("Executions")').click();
      await page.locator('[data-testid=sweep-row]').first().waitFor(T);
      const marked = await page.locator('[data-testid=execution-sweep]').count();
      assert(marked === 2, `both trials marked as the sweep's, got ${marked}`);
      await page.screenshot({ path: runner.shotPath('m3-executions-with-sweep'), fullPage: true });

      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
