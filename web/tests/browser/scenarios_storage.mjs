// Browser scenario of storage backends (docs/storage.md, "Several backends"):
// a server whose kiln.toml declares two local storage backends, so the
// artifacts view shows where each artifact lives and can move it.
//
//   q  its own `kiln serve --config` with [storage] (named "fast") and
//      [storage.slow]; an upload to stations lands in fast (the "Stored in"
//      column says so); "Move to slow" in the row's select moves it (the
//      column says slow, the server agrees, the digest is the same); "New
//      artifacts go to" set to slow in the pane's head, and the next upload
//      is stored in slow.
//
// The other scenarios share run.mjs's server (one storage backend: no column,
// no select); this one starts and stops its own. Registered in run.mjs
// (`...storageScenarios(ctx)`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, runOnOwnServer, startServer } from './harness.mjs';

/** ctx: { browser, runner, newPage, poll, kiln, web } */
export function storageScenarios(ctx) {
  const { runner, poll } = ctx;
  const T = { timeout: 30_000 };

  return {
    async q_storage_backends() {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-browser-storage-'));
      const config = join(dir, 'kiln.toml');
      writeFileSync(config, `# Written by the browser scenario q (scenarios_storage.mjs).
[storage]
name = "fast"

[storage.slow]
kind = "local"
path = "${join(dir, 'slow')}"
`);
      const server = await startServer({ kiln: ctx.kiln, web: ctx.web, extraArgs: ['--config', config] });
      await runOnOwnServer({ runner, tag: 'q', server, dir }, scenario);
    },
  };

  async function scenario(base) {
    const api = (path, init) => fetch(`${base}/api/v1${path}`, init).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    const upload = async (name, text) => {
      const r = await api(`/projects/stations/artifacts?name=${name}`, { method: 'POST', body: text });
      assert(r.status === 201, `uploaded ${name}: ${JSON.stringify(r)}`);
      return r.body.digest;
    };
    const storesOf = async (digest) =>
      (await api('/projects/stations/artifacts')).body.artifacts.find((a) => a.digest === digest)?.stores ?? [];

    const digest = await upload('first.txt', 'stored in fast, then moved to slow');
    const { page } = await ctx.newPage(ctx.browser, base);
    await page.goto(`${base}/#/p/stations/artifacts`);
    const row = page.locator('[data-testid="artifact-first.txt"]');
    await row.waitFor(T);
    const storesShown = (r) => r.locator('[data-testid=artifact-stores]').innerText().then((t) => t.trim());
    await poll(async () => (await storesShown(row)) === 'fast', 'the row says fast');
    await page.screenshot({ path: runner.shotPath('q1-stored-in-fast') });

    // Move to slow from the row's select.
    const action = row.locator('[data-testid=artifact-storage-action]');
    const options = await action.locator('option').allInnerTexts();
    assert(options.includes('Copy to slow') && options.includes('Move to slow'), `the select offers slow, got ${options}`);
    await action.selectOption('move:slow');
    await poll(async () => (await storesShown(row)) === 'slow', 'the row says slow after the move');
    await poll(async () => (await storesOf(digest)).join() === 'slow', 'the server has it in slow only');
    await page.screenshot({ path: runner.shotPath('q2-moved-to-slow') });

    // The project's new artifacts go to slow.
    const setting = page.locator('[data-testid=project-storage]');
    assert((await setting.inputValue()) === 'fast', 'new artifacts go to the default (fast) at first');
    await setting.selectOption('slow');
    await poll(async () => (await api('/projects/stations/storage')).body?.backend === 'slow', 'the project chose slow on the server');
    const second = await upload('second.txt', 'uploaded after the project chose slow');
    assert((await storesOf(second)).join() === 'slow', 'the new upload is in slow');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const secondRow = page.locator('[data-testid="artifact-second.txt"]');
    await secondRow.waitFor(T);
    await poll(async () => (await storesShown(secondRow)) === 'slow', "the new upload's row says slow");
    await page.screenshot({ path: runner.shotPath('q3-new-artifacts-in-slow') });
  }
}
