// Browser scenario of compute backends (docs/compute.md): a server whose
// kiln.toml declares two backends, so the editor offers where to run.
//
//   p  its own `kiln serve --config` with [backends.local] and a Slurm
//      [backends.cluster] (SLURM_CONF pointing nowhere: it starts, and nothing
//      is sent to it); the stations example: the "on …" menu beside Run lists
//      the default (local) and cluster; local chosen, run; the execution says
//      "on local" and each job where it ran (the list's "local · <host>", the
//      job panel's "ran on local, node <host>"); then Summarize's Resources in
//      the inspector ask for 1 GPU on backend local (the inspector warns that
//      local has none); Run again is all cached (resources are not in the
//      cache key), and "Re-run all" fails Summarize with the server's reason
//      "asks for 1 GPU but backend 'local' has 0"; nothing went to cluster.
//
// The other scenarios share run.mjs's server (one backend, no menu); this one
// starts and stops its own. Registered in run.mjs (`...computeScenarios(ctx)`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, runOnOwnServer, startServer } from './harness.mjs';

const CONFIG = `# Written by the browser scenario p (scenarios_compute.mjs).
[backends.local]
kind = "local"

[backends.cluster]
kind = "slurm"
env = { SLURM_CONF = "/nonexistent/slurm.conf" }
`;

/** ctx: { browser, runner, newPage, poll, kiln, web } */
export function computeScenarios(ctx) {
  const { runner, poll } = ctx;
  const T = { timeout: 30_000 };

  return {
    async p_compute_backends() {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-browser-config-'));
      const config = join(dir, 'kiln.toml');
      writeFileSync(config, CONFIG);
      const server = await startServer({ kiln: ctx.kiln, web: ctx.web, extraArgs: ['--config', config] });
      await runOnOwnServer({ runner, tag: 'p', server, dir }, scenario);
    },
  };

  async function scenario(base) {
    const api = (path, init) => fetch(`${base}/api/v1${path}`, init).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    const backends = (await api('/backends')).body?.backends ?? [];
    assert(
      backends.map((b) => `${b.name}:${b.kind}`).join() === 'local:local,cluster:slurm',
      `the server has the config's two backends, got ${JSON.stringify(backends)}`,
    );
    const host = hostname();
    // An instance's attributes on the server: `name` inside the pipeline (the
    // definition of the same name lives in the Operations folder).
    const attrsOf = async (name) => {
      const nodes = (await api('/projects/stations/tree')).body.tree.nodes;
      return Object.values(nodes).find((n) => n.attrs.name === name && nodes[n.parent]?.attrs.name === 'Station summary')?.attrs ?? {};
    };

    const { page, errors } = await ctx.newPage(ctx.browser, base);
    await page.goto(`${base}/#/p/stations`);
    await page.locator('[data-testid=graph-node][data-title=Summarize]').waitFor(T);
    await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);

    // The menu beside Run: the default first (named), then each backend.
    const menu = page.locator('[data-testid=run-backend]');
    await menu.waitFor(T);
    const options = await menu.locator('option').allInnerTexts();
    assert(options.join('|') === 'Default (local)|local|cluster', `the menu offers the default, local and cluster, got ${options}`);
    assert((await menu.inputValue()) === '', 'the default is chosen at first');
    await menu.selectOption('local');
    await page.screenshot({ path: runner.shotPath('p1-backend-menu') });

    // A run on local: the execution says where it and each job ran.
    await page.locator('[data-testid=run]').click();
    await page.locator('[data-testid=execution-state]:has-text("succeeded")').waitFor(T);
    const first = page.url();
    assert((await page.locator('[data-testid=execution-backend]').innerText()) === 'on local', 'the execution ran on local');
    const placed = page.locator('[data-testid=job-placement]');
    await placed.nth(1).waitFor(T);
    const where = await placed.allInnerTexts();
    // The Input is no job of a backend: ReadCsv and Summarize are.
    assert(where.length === 2 && where.every((w) => w === `local · ${host}`), `each job ran on "local · ${host}", got ${where}`);
    await page.screenshot({ path: runner.shotPath('p2-execution-on-local') });
    await page.locator('[data-testid=graph-node][data-title=Summarize] .port-node-title').click();
    const panel = await page.locator('[data-testid=job-where]').innerText();
    assert(panel === `ran on local, node ${host}`, `the job panel says where Summarize ran, got "${panel}"`);

    // Summarize asks for 1 GPU (Resources in the inspector): local has none.
    await page.locator('.sidebar a:has-text("Station summary")').click();
    await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
    await page.locator('[data-testid=graph-node][data-title=Summarize] .port-node-title').click();
    await page.locator('[data-testid=resources] summary').click();
    const gpus = page.locator('#resource-job_gpus');
    await gpus.fill('1');
    await gpus.press('Enter');
    await poll(async () => (await attrsOf('Summarize')).job_gpus === 1, 'job_gpus = 1 on the Summarize instance on the server');
    await page.locator('[data-testid=resources-summary]:has-text("1 GPU")').waitFor(T);
    // The default backend has no GPU: the inspector warns at once, and again,
    // naming it, when the instance names its backend.
    await page.locator('[data-testid=resource-job_gpus]:has-text("The default backend \'local\' has 0 GPUs")').waitFor(T);
    await page.locator('[data-testid=resource-job_backend] select').selectOption('local');
    await poll(async () => (await attrsOf('Summarize')).job_backend === 'local', 'job_backend = local on the Summarize instance on the server');
    const warning = page.locator('[data-testid=resource-job_gpus]:has-text("has 0 GPUs")');
    await warning.waitFor(T);
    assert((await menu.inputValue()) === 'local', 'the menu kept local');
    await page.screenshot({ path: runner.shotPath('p3-resources-1-gpu') });

    // Run again: resources are not in the cache key, so both operations are
    // cached and no backend is asked (a cached result needs none).
    await page.locator('[data-testid=run]').click();
    await page.waitForURL((u) => u.href !== first && /\/executions\//.test(u.href), T);
    const second = page.url();
    await page.locator('[data-testid=execution-state]:has-text("succeeded")').waitFor(T);
    const cached = await page
      .locator('[data-testid=graph-node][data-title=ReadCsv], [data-testid=graph-node][data-title=Summarize]')
      .evaluateAll((ns) => ns.map((n) => n.getAttribute('data-status')));
    assert(cached.join() === 'cached,cached', `ReadCsv and Summarize cached the second time, got ${cached}`);

    // "Re-run all" (past the cache, same commit): local refuses Summarize before queueing it.
    await page.getByRole('button', { name: 'Re-run all' }).click();
    await page.waitForURL((u) => u.href !== second && /\/executions\//.test(u.href), T);
    await page.locator('[data-testid=execution-state]:has-text("failed")').waitFor(T);
    await page.locator('[data-testid=graph-node][data-title=Summarize][data-status=failed]').waitFor(T);
    await page.locator('[data-testid=graph-node][data-title=ReadCsv][data-status=succeeded]').waitFor(T);
    await page.locator('[data-testid=graph-node][data-title=Summarize] .port-node-title').click();
    await page.locator('[data-testid=job-panel] [data-testid=job-state]:has-text("failed")').waitFor(T);
    const reason = await page.locator('[data-testid=job-panel] .job-reason').innerText();
    assert(reason.includes("asks for 1 GPU but backend 'local' has 0"), `the job panel gives local's reason, got "${reason}"`);
    await page.screenshot({ path: runner.shotPath('p4-refused-for-a-gpu') });
    // The server says the same.
    const id = page.url().match(/\/executions\/([^/?#]+)/)[1];
    const refused = (await api(`/executions/${id}`)).body.jobs.find((j) => j.name === 'Summarize');
    assert(refused.state === 'failed' && refused.reason === reason, `the server's job failed with the reason shown, got ${JSON.stringify(refused)}`);

    // Nothing was sent to the cluster (its sbatch would fail: SLURM_CONF points nowhere).
    const cluster = (await api('/backends')).body.backends.find((b) => b.name === 'cluster');
    assert(cluster.stats?.sbatch_calls === 0, `no sbatch call, got ${JSON.stringify(cluster.stats)}`);

    assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
  }
}
