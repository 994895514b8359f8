// Browser scenario of the redshift example end to end (issue 16): run it, watch
// the curves, rotate the 3-D embedding, sweep from the UI, read the plot.
//
//   o  on a fork of redshift (the shipped example stays as it is for the other
//      scenarios), patched down through the REST API to a test's size (100
//      galaxies, 2 epochs: two points per curve); opens the pipeline, presses
//      Run and, while it runs, TrainValidate's metric charts show the live
//      curves; every job turns green; VisualizeEmbeddings' figure is the
//      interactive 3-D view: a drag rotates it (its view angles and its pixels
//      change), hovering a point shows its tooltip; then "Sweep…" over
//      TrainValidate's learning rate (2 values) runs both trials (the upstream
//      jobs come from the cache) and the sweep's view has a row and a
//      parallel-coordinates line per trial.
//
// Registered in run.mjs (`...redshiftScenarios(ctx)`); run alone with `--only o`.
import { assert } from './harness.mjs';

const PROJECT = 'redshift-scenario';
const PIPELINE = 'Photometric redshifts';

/** ctx: { browser, base, api, runner, newPage, poll, allow } */
export function redshiftScenarios(ctx) {
  const { base, api, runner } = ctx;
  const T = { timeout: 60_000 };
  const json = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  /** The fork's pipeline instance called `name` (its guid). */
  function instance(tree, name) {
    const pipe = Object.values(tree.nodes).find((n) => n.attrs?.name === PIPELINE);
    assert(pipe, `the fork has the pipeline "${PIPELINE}"`);
    const node = Object.values(tree.nodes).find((n) => n.parent === pipe.guid && n.attrs?.name === name);
    assert(node, `the pipeline has an instance of ${name}`);
    return node.guid;
  }

  /** Pixels of a point of the 3-D scatter, in page coordinates: saturated
   *  colours (the cube, ticks and labels are grey), spread over the canvas. */
  async function pointPixels(canvas) {
    return canvas.evaluate((el) => {
      const ctx = el.getContext('2d');
      const { data, width, height } = ctx.getImageData(0, 0, el.width, el.height);
      const box = el.getBoundingClientRect();
      const found = [];
      for (let y = 0; y < height; y += 3)
        for (let x = 0; x < width; x += 3) {
          const i = 4 * (y * width + x);
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a > 150 && Math.max(r, g, b) - Math.min(r, g, b) > 60)
            found.push({ x: box.left + ((x + 0.5) * box.width) / width, y: box.top + ((y + 0.5) * box.height) / height });
        }
      // A spread of candidates rather than the first few of one point.
      const step = Math.max(1, Math.floor(found.length / 20));
      return found.filter((_, i) => i % step === 0);
    });
  }

  return {
    async o_redshift_end_to_end({ skip }) {
      const spec = await api('/openapi.json');
      if (!Object.keys(spec.body?.paths ?? {}).some((p) => p.endsWith('/sweeps')))
        return skip('this server has no sweep routes yet (GET /api/v1/openapi.json lists no …/sweeps)');
      if ((await api('/projects/redshift/executions')).status !== 200) return skip('the server has no executions API');

      // A fork, patched down to a test's size through the REST API.
      const forked = await api('/projects', json({ name: PROJECT, from: { project: 'redshift' } }));
      assert(forked.status === 201, `redshift forked as ${PROJECT}, got ${forked.status} ${JSON.stringify(forked.body)}`);
      const tree = (await api(`/projects/${PROJECT}/tree`)).body.tree;
      const survey = instance(tree, 'GenerateSurvey');
      const train = instance(tree, 'TrainValidate');
      const set = (node, name, value) => ({ op: 'set_attr', node, name, value });
      const patched = await api(
        `/projects/${PROJECT}/branches/main/patches`,
        json({
          message: "a browser test's size",
          ops: [set(survey, 'n_galaxies', 100), set(train, 'epochs', 2), set(train, 'batch_size', 16)],
        }),
      );
      assert(patched.status === 201 || patched.status === 200, `the fork patched down, got ${patched.status} ${JSON.stringify(patched.body)}`);

      const { page, errors } = await ctx.newPage(ctx.browser, base, { allow: ctx.allow });
      await page.goto(`${base}/#/p/${PROJECT}`);
      await page.locator(`.sidebar a:has-text("${PIPELINE}")`).first().click();
      await page.locator('[data-testid=graph-node][data-title=TrainValidate]').waitFor(T);
      await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
      await page.screenshot({ path: runner.shotPath('o1-pipeline') });

      // Run; TrainValidate's panel shows the curves as they come.
      await page.locator('[data-testid=run]').click();
      await page.locator('[data-testid=execution-state]').waitFor({ timeout: 90_000 });
      await page.locator('[data-testid=graph-node][data-title=TrainValidate] .port-node-title').click();
      await page.locator('[data-testid=job-panel]').waitFor(T);
      await page.getByRole('tab', { name: /Metrics/ }).click();
      // Two epochs: each loss a line chart (one value would be a number, not a chart).
      await page.locator('[data-testid=metrics] canvas').first().waitFor({ timeout: 300_000 });
      const metricsText = await page.locator('[data-testid=metrics]').innerText();
      assert(/train_loss/.test(metricsText) && /validation_loss/.test(metricsText), `both losses charted, got "${metricsText}"`);
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('o2-live-curves') });

      await page.locator('[data-testid=execution-state]:has-text("succeeded")').waitFor({ timeout: 300_000 });
      const states = await page.locator('[data-testid=graph-node]').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-status')));
      // Nine operations and the pipeline's output (Redshift metrics).
      assert(states.length === 10 && states.every((s) => s === 'succeeded' || s === 'cached'), `all 10 jobs green, got ${states}`);
      await page.screenshot({ path: runner.shotPath('o3-succeeded') });

      // The embedding's figure: the interactive 3-D view.
      await page.locator('[data-testid=graph-node][data-title=VisualizeEmbeddings] .port-node-title').click();
      await page.locator('[data-testid=job-panel] [data-testid=job-state]:has-text("succeeded")').waitFor(T);
      await page.getByRole('tab', { name: /Figures/ }).click();
      const view = page.locator('[data-testid=scatter3d]').first();
      const canvas = view.locator('canvas');
      await canvas.waitFor(T);
      await canvas.scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('o4-embedding') });

      // Drag to rotate: the angles and the pixels change.
      const before = { azim: await view.getAttribute('data-azim'), elev: await view.getAttribute('data-elev') };
      const pixelsBefore = await canvas.evaluate((el) => el.toDataURL());
      const box = await canvas.boundingBox();
      assert(box && box.width > 100, `the canvas is on screen, got ${JSON.stringify(box)}`);
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      for (let i = 1; i <= 8; i++) await page.mouse.move(cx + 10 * i, cy + 4 * i);
      await page.mouse.up();
      const after = { azim: await view.getAttribute('data-azim'), elev: await view.getAttribute('data-elev') };
      assert(after.azim !== before.azim && after.elev !== before.elev, `the drag rotates the view: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
      const pixelsAfter = await canvas.evaluate((el) => el.toDataURL());
      assert(pixelsAfter !== pixelsBefore, 'the rotated view repaints the canvas');
      await page.mouse.move(box.x - 20, box.y - 20); // off the canvas: no tooltip in the shot
      await page.screenshot({ path: runner.shotPath('o5-rotated') });

      // Hover a point: its tooltip.
      const tip = page.locator('[data-testid=scatter3d-tip]');
      const candidates = await pointPixels(canvas);
      assert(candidates.length > 0, 'the 3-D view paints coloured points');
      let shown = false;
      for (const c of candidates) {
        await page.mouse.move(c.x, c.y);
        if (await tip.isVisible()) {
          shown = true;
          break;
        }
      }
      assert(shown, `a tooltip over one of ${candidates.length} point pixels`);
      const tipText = await tip.innerText();
      assert(/point \d+/.test(tipText), `the tooltip names the point, got "${tipText}"`);
      await page.screenshot({ path: runner.shotPath('o6-tooltip') });

      // A sweep from the editor (Run took us to the execution's view) over the learning rate.
      await page.locator(`.sidebar a:has-text("${PIPELINE}")`).first().click();
      await page.locator('[data-testid=sweep]').click(T);
      const dialog = page.locator('[data-testid=sweep-dialog]');
      await dialog.waitFor(T);
      const key = 'TrainValidate.learning_rate';
      await dialog.locator(`[data-testid="sweep-pick-${key}"]`).check();
      await dialog.locator(`[data-testid="sweep-values-${key}"]`).fill('0.001, 0.01');
      await page.locator('[data-testid=sweep-trials]:has-text("2 trials")').waitFor(T);
      await page.screenshot({ path: runner.shotPath('o7-sweep-dialog') });
      await page.locator('[data-testid=sweep-start]').click();
      await page.locator('[data-testid=sweep-view]').waitFor(T);
      await page.locator('[data-testid=sweep-state]:not(:has-text("running"))').waitFor({ timeout: 360_000 });
      const state = (await page.locator('[data-testid=sweep-state]').textContent())?.trim();
      assert(state === 'succeeded', `the sweep succeeded, got ${state}`);

      // The trials table: a row per learning rate, final losses filled.
      const rows = page.locator('[data-testid=trial-row]');
      await rows.nth(1).waitFor(T);
      assert((await rows.count()) === 2, `two trials, got ${await rows.count()}`);
      const rates = await page.locator(`[data-testid=trial-row] td[data-key="param:${key}"]`).allInnerTexts();
      assert(rates.map(Number).sort((a, b) => a - b).join() === '0.001,0.01', `learning rates 0.001 and 0.01, got ${rates}`);
      const metricCells = await page.locator('[data-testid=trial-row] td[data-key^="metric:"]').allInnerTexts();
      assert(metricCells.length >= 2 && metricCells.every((t) => t !== '–'), `every final metric filled, got ${metricCells}`);

      // The plot: one line per trial (a trial's line may be drawn in runs: count trials).
      // 'attached', not visible: with two values a trial's line can be flat (top or
      // bottom on every axis), and a zero-height box counts as hidden to Playwright.
      await page.locator('[data-testid=parcoords] polyline').first().waitFor({ state: 'attached', timeout: 60_000 });
      const lineTrials = await page
        .locator('[data-testid=parcoords] polyline')
        .evaluateAll((ls) => [...new Set(ls.map((l) => l.getAttribute('data-execution')))]);
      const rowTrials = await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-execution')));
      assert(
        lineTrials.length === 2 && rowTrials.every((e) => lineTrials.includes(e)),
        `a line per trial: lines of ${lineTrials}, rows of ${rowTrials}`,
      );
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('o8-sweep-view'), fullPage: true });

      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
