// Browser scenario of the architecture editor (the PyTorch library):
//
//   h  a user adds the library from the sidebar ("New architecture" in a
//      project without it), builds a small CNN from the palette — Input
//      [N, 1, 28, 28] → Conv2d → ReLU → MaxPool2d → Flatten → Linear — by
//      clicking + (each new layer is chained after the selected one), sees the
//      shapes on the edges and Linear's in_features inferred, sets a kernel
//      too large and sees the error on that node and in the problems list,
//      fixes it, reads the summary and the generated code; a second browser
//      sees the layers and the kernel edit live, with the first user's
//      selection outlined.
//   i  a scientist opens the model zoo's redshift Inception network (shapes on
//      every edge, no problems), copies it into their own project, and edits
//      the copy there: the copy has its blocks and its shapes.
//
// Registered in run.mjs (`...archScenarios(ctx)`); run alone with
// `--only h`. `ctx.prepare(page)`, when given, runs on each new page (a
// harness that fakes routes a server does not have yet).
import { assert } from './harness.mjs';

/** ctx: { browser, base, api, runner, newPage, poll, allow, prepare? } */
export function archScenarios(ctx) {
  const { browser, base, api, runner, newPage, poll, allow } = ctx;
  const T = { timeout: 30_000 };

  async function open(project) {
    const p = await newPage(browser, base, { allow });
    await ctx.prepare?.(p.page);
    await p.page.goto(`${base}/#/p/${project}`);
    await p.page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
    return p;
  }

  const node = (page, name) => page.locator(`.react-flow__node:has([data-title="${name}"])`);

  /** Searches the palette and clicks the type's + (chained after the selected layer). */
  async function addLayer(page, type) {
    await page.getByLabel('Search layers').fill(type);
    await page.getByRole('button', { name: `Add ${type}`, exact: true }).click();
    await page.getByLabel('Search layers').fill('');
  }

  /** Types a parameter into the inspector of the selected layer (Enter commits). */
  async function setParam(page, name, text) {
    const input = page.locator(`[data-testid=param-${name}] input`);
    await input.fill(text);
    await input.press('Enter');
  }

  async function edgeLabels(page) {
    return page.locator('.react-flow__edge-text').allTextContents();
  }

  return {
    async h_architecture_editor() {
      const project = `convnet-${Date.now() % 100000}`;
      const created = await api('/projects', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: project, description: 'A small CNN' }),
      });
      assert(created.status === 200 || created.status === 201, `project created, got ${created.status}`);
      const a = await open(project);
      const b = await open(project);
      const { page } = a;

      // The project has no library yet: the first architecture adds it.
      await page.locator('[data-testid=no-architectures]').waitFor(T);
      await page.getByRole('button', { name: 'New architecture' }).click();
      await page.waitForURL(/\/architecture\//, T);
      await page.locator('[data-testid=palette-Conv2d]').waitFor(T);
      const firstUrl = page.url();
      // The second user opens it from the sidebar.
      await b.page.locator('.sidebar a[href*="/architecture/"]', { hasText: 'Net' }).click();
      await b.page.locator('[data-testid=palette-Conv2d]').waitFor(T);
      await page.screenshot({ path: runner.shotPath('h1-new-architecture') });

      // Input [N, 1, 28, 28], then the chain.
      await addLayer(page, 'Input');
      await node(page, 'x').waitFor(T);
      await setParam(page, 'shape', 'N, 1, 28, 28');
      await addLayer(page, 'Conv2d');
      await node(page, 'conv2d').waitFor(T);
      await setParam(page, 'out_channels', '8');
      await setParam(page, 'kernel_size', '3');
      await addLayer(page, 'ReLU');
      await addLayer(page, 'MaxPool2d');
      await setParam(page, 'kernel_size', '2');
      await addLayer(page, 'Flatten');
      await addLayer(page, 'Linear');
      await setParam(page, 'out_features', '10');
      await addLayer(page, 'Output');
      await node(page, 'out').waitFor(T);
      await node(page, 'linear').click();
      await page.getByRole('button', { name: 'Auto layout' }).click();

      // Shapes on the edges.
      const want = ['[N, 1, 28, 28]', '[N, 8, 26, 26]', '[N, 8, 13, 13]', '[N, 1352]'];
      await poll(async () => {
        const labels = await edgeLabels(page);
        return want.every((w) => labels.includes(w));
      }, `edge shapes ${want.join(' ')}`);
      // Linear's in_features is inferred, shown greyed in its empty field.
      await page.locator('[data-testid=inferred-in_features]').waitFor(T);
      const inferred = await page.locator('[data-testid=inferred-in_features]').innerText();
      assert(/1352/.test(inferred), `in_features inferred as 1352, got "${inferred}"`);
      await page.screenshot({ path: runner.shotPath('h2-inferred') });
      await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
      await page.waitForTimeout(400);
      await page.screenshot({ path: runner.shotPath('h3-cnn-shapes') });

      // A kernel too large: the error is on the Conv2d node and in the problems.
      await node(page, 'conv2d').click();
      await setParam(page, 'kernel_size', '40');
      await page.locator('[data-testid=graph-node][data-title="conv2d"][data-error]').waitFor(T);
      const message = await page.locator('[data-testid=graph-node][data-title="conv2d"]').getAttribute('data-error');
      assert(/kernel|larger|40/i.test(message ?? ''), `the error names the kernel, got "${message}"`);
      await page.getByTestId('tab-problems').click();
      await page.locator('[data-testid=problem]').first().waitFor(T);
      // A problem selects its node.
      await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
      await page.locator('[data-testid=problem]').first().click();
      await page.locator('[data-testid=inspector-error]').waitFor(T);
      assert((await page.getByLabel('Layer name').inputValue()) === 'conv2d', 'the problem selected conv2d');
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('h4-kernel-error') });

      // The second browser saw it all live.
      await node(b.page, 'linear').waitFor(T);
      assert((await b.page.locator('[data-testid=graph-node]').count()) === 7, 'the second browser shows the seven nodes');
      await b.page.locator('[data-testid=graph-node][data-title="conv2d"][data-error]').waitFor(T);
      await b.page.locator('.react-flow__node:has([data-title="conv2d"]) .remote-tag').waitFor(T);
      await b.page.keyboard.press('f');
      await b.page.waitForTimeout(500);
      await b.page.screenshot({ path: runner.shotPath('h5-second-browser') });

      // Fix it: the error goes, the shapes come back.
      await setParam(page, 'kernel_size', '3');
      await poll(async () => (await page.locator('[data-testid=graph-node][data-error]').count()) === 0, 'the error to go');
      await poll(async () => (await edgeLabels(page)).includes('[N, 1352]'), 'the shapes to come back');
      await poll(async () => (await b.page.locator('[data-testid=graph-node][data-error]').count()) === 0, 'the error to go in the second browser');

      // Summary and code.
      await page.getByTestId('tab-summary').click();
      const total = await page.getByTestId('total-params').innerText();
      // Conv2d 1→8, 3×3: 80; Linear 1352→10: 13530.
      assert(total.replace(/,/g, '') === '13610', `13,610 parameters in total, got "${total}"`);
      await page.getByTestId('tab-code').click();
      await page.locator('[data-testid=arch-code] .cm-content').waitFor(T);
      const code = await page.locator('[data-testid=arch-code] .cm-content').innerText();
      assert(/class Net\(nn\.Module\)/.test(code) && /nn\.Conv2d\(1, 8/.test(code) && /return linear/.test(code), `generated code, got:\n${code.slice(0, 600)}`);
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('h6-fixed-code') });
      const [download] = await Promise.all([page.waitForEvent('download', T), page.getByTestId('export-py').click()]);
      assert(download.suggestedFilename() === 'Net.py', `Export .py names the file after the class, got ${download.suggestedFilename()}`);

      // Undo puts the wrong kernel back (the shared undo stack).
      await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
      await page.keyboard.press('Control+z');
      await page.locator('[data-testid=graph-node][data-title="conv2d"][data-error]').waitFor(T);
      await page.keyboard.press('Control+Shift+z');
      await poll(async () => (await page.locator('[data-testid=graph-node][data-error]').count()) === 0, 'redo to fix it again');

      // Both edit conv2d's stride: A is typing when B's value arrives, so A
      // is asked (as in pipelines), keeps theirs or mine: mine, which B sees.
      await node(page, 'conv2d').click();
      await node(b.page, 'conv2d').click();
      await page.locator('[data-testid=param-stride] input').fill('2');
      await setParam(b.page, 'stride', '3');
      await page.locator('[data-testid=collision-stride]').waitFor(T);
      await page.screenshot({ path: runner.shotPath('h6b-collision') });
      await page.getByTestId('keep-mine').click();
      await poll(async () => (await b.page.locator('[data-testid=param-stride] input').inputValue()) === '2', 'B to see A’s stride');
      await setParam(page, 'stride', '');
      await poll(async () => (await edgeLabels(page)).includes('[N, 1352]'), 'stride back to its default');

      // Copy and paste a layer: the copy is named as an identifier.
      await node(page, 'relu').click();
      await page.keyboard.press('Control+c');
      await page.keyboard.press('Control+v');
      await node(page, 'relu_2').waitFor(T);
      await node(b.page, 'relu_2').waitFor(T);
      await page.keyboard.press('Delete');
      await poll(async () => (await node(page, 'relu_2').count()) === 0, 'the pasted copy deleted');

      // Import PyTorch code: a new architecture made from a module.
      await page.getByTestId('import-code').click();
      await page.getByLabel('Class name').fill('Net');
      await page.getByTestId('import-run').click();
      await page.waitForURL((u) => !u.href.endsWith(firstUrl), T);
      await page.locator('.sidebar a[href*="/architecture/"]', { hasText: 'Net2' }).waitFor(T);
      await poll(async () => (await page.locator('[data-testid=graph-node]').count()) >= 3, 'the imported layers');
      await poll(async () => (await page.locator('[data-testid=graph-node][data-error]').count()) === 0 && (await edgeLabels(page)).length > 0, 'the imported architecture analysed');
      await page.waitForTimeout(400);
      await page.screenshot({ path: runner.shotPath('h7-imported') });
      const importedUrl = page.url();

      // Net2 as a block in Net: named after it, expanded to its layers, opened.
      await page.goto(firstUrl);
      await node(page, 'conv2d').waitFor(T);
      await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
      await page.getByRole('button', { name: 'Add block Net2', exact: true }).click();
      await node(page, 'net2').waitFor(T);
      await page.getByTestId('expand-block').click();
      await node(page, 'net2').locator('[data-testid=node-lines]:has-text("conv: Conv2d")').waitFor(T);
      // Fed by the Input, the expanded block shows its layers' shapes.
      await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
      await page.keyboard.press('f');
      await page.waitForTimeout(500);
      const from = await node(page, 'x').locator('.react-flow__handle.source').boundingBox();
      const to = await node(page, 'net2').locator('.react-flow__handle.target').boundingBox();
      assert(from && to, 'the Input and block handles are on screen');
      await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await page.mouse.down();
      await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 15 });
      await page.mouse.up();
      await node(page, 'net2').locator('[data-testid=node-lines]:has-text("conv: Conv2d → [N, 8, 26, 26]")').waitFor(T);
      await node(page, 'net2').click();
      await page.waitForTimeout(300);
      await page.screenshot({ path: runner.shotPath('h8-block') });
      await page.getByTestId('open-block').click();
      await page.waitForURL(importedUrl, T);

      // History: comparing before the block with after its connection shows
      // Net's new block layer by layer, with its shape and parameters.
      await page.goto(`${base}/#/p/${project}/history`);
      await page.locator('[data-testid=commit]').nth(1).waitFor(T);
      await page.locator('[data-testid=commit] input[type=checkbox]').nth(0).check();
      await page.locator('[data-testid=commit] input[type=checkbox]').nth(2).check();
      await page.getByTestId('compare').click();
      await page.locator('[data-testid=arch-diffs]').waitFor(T);
      const diffText = await page.locator('[data-testid=arch-diffs]').innerText();
      assert(/net2/.test(diffText) && /added/.test(diffText) && /\+54,170/.test(diffText), `the diff names the added block and its parameters, got:\n${diffText}`);
      await page.screenshot({ path: runner.shotPath('h9-history-diff'), fullPage: true });

      // An old version read-only: the graph with its shapes, no palette.
      const commits = (await api(`/projects/${project}/commits?ref=main`)).body.commits;
      await page.goto(`${firstUrl}?at=${commits[3].commit}`);
      await page.locator('[data-testid=readonly-banner]').waitFor(T);
      await node(page, 'conv2d').waitFor(T);
      assert((await page.locator('.arch-palette').count()) === 0, 'no palette when read-only');
      await poll(async () => (await edgeLabels(page)).length > 0, 'shapes on the old version');

      assert(a.errors.length === 0, `no console errors:\n${a.errors.join('\n')}`);
      assert(b.errors.length === 0, `no console errors in the second browser:\n${b.errors.join('\n')}`);
    },

    async i_copy_from_the_zoo() {
      const project = `redshift-${Date.now() % 100000}`;
      const created = await api('/projects', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: project, description: 'Photometric redshifts' }),
      });
      assert(created.status === 200 || created.status === 201, `project created, got ${created.status}`);
      const { page, errors } = await open('zoo');
      await page.getByRole('link', { name: 'RedshiftInception', exact: true }).first().click();
      await poll(async () => (await edgeLabels(page)).length > 10, 'shapes on the Inception network\'s edges');
      const labels = await edgeLabels(page);
      assert(labels.some((l) => l.includes('64 × 64') || l.includes('64×64') || l.includes('64, 64')), `the input's 64×64 on an edge, got ${labels.slice(0, 5)}`);
      await page.screenshot({ path: runner.shotPath('i1-zoo-inception') });
      await page.getByTestId('copy-architecture').click();
      await page.getByTestId('copy-target').selectOption(project);
      await page.getByTestId('copy-confirm').click();
      await page.waitForURL(new RegExp(`#/p/${project}/architecture/`), T);
      await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
      await poll(async () => (await edgeLabels(page)).length > 10, 'shapes on the copy\'s edges');
      const tree = (await api(`/projects/${project}/tree?ref=main`)).body;
      const names = Object.values(tree.tree?.nodes ?? tree.nodes ?? {}).map((n) => n.attrs?.name);
      for (const want of ['RedshiftInception', 'InceptionA', 'InceptionB'])
        assert(names.includes(want), `the copy holds ${want}`);
      await page.screenshot({ path: runner.shotPath('i2-copied-inception') });
      assert(errors.length === 0, `no errors shown: ${errors}`);
    },
  };
}
