// Browser-test harness: a real `kiln serve` on a free port with a fresh data
// folder, Debian's chromium driven by playwright-core, a tiny sequential
// runner with per-test timeouts, screenshots, console-error checks and a
// JUnit XML report.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The log of the server started last: printed when a scenario fails, so a
// CI report says what the server saw.
let serverLog = () => '';

/**
 * Starts `kiln serve` and waits until /api/v1/health answers. `extraArgs` go
 * after the harness's own (e.g. `['--config', file]` for a scenario that needs
 * its own server). Its log is the one a failing scenario prints until stop(),
 * which hands that back to the server started before it.
 */
export async function startServer({ kiln, web, extraArgs = [] }) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'kiln-browser-'));
  const proc = spawn(kiln, ['serve', '--port', String(port), '--web', web, ...extraArgs], {
    env: { ...process.env, KILN_DATA: data },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const previousLog = serverLog;
  serverLog = () => log;
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      serverLog = previousLog; // the error carries this one's log
      throw new Error(`kiln serve exited (${proc.exitCode}):\n${log}`);
    }
    try {
      const r = await fetch(`${base}/api/v1/health`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      serverLog = previousLog;
      throw new Error(`kiln serve did not come up:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    port,
    data,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([new Promise((r) => proc.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      serverLog = previousLog;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * A page that records console errors and uncaught exceptions. `allow` is a
 * predicate for expected messages (e.g. a 404 the UI handles on purpose).
 */
export const openPages = new Set();
const openContexts = new Set();

export async function newPage(browser, base, { allow = () => false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  openContexts.add(context);
  const page = await context.newPage();
  openPages.add(page);
  page.on('close', () => openPages.delete(page));
  const errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = `${m.text()} @ ${m.location()?.url ?? ''}`;
    if (!allow(text)) errors.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await page.goto(base + '/');
  return { context, page, errors };
}

/**
 * Runs `scenario(server.base)` against a server the scenario started for
 * itself (its own config): on failure it takes screenshots of the open pages
 * while that server still answers (the runner's come after it stopped, when
 * pages say "Offline") and adds the server's last log lines to the error
 * (the runner prints run.mjs's server, not this one); then it stops the
 * server and removes `dir`.
 */
export async function runOnOwnServer({ runner, tag, server, dir }, scenario) {
  try {
    await scenario(server.base);
  } catch (e) {
    let i = 0;
    for (const page of openPages) await page.screenshot({ path: runner.shotPath(`FAILED-${tag}-before-stop-${i++}`) }).catch(() => {});
    if (e instanceof Error) {
      const extra = `\n--- last lines of this scenario's server log\n${server.log().split('\n').slice(-40).join('\n')}`;
      const stackBefore = e.stack; // rendered already, or rendered from the message later (as in harness.mjs)
      e.message += extra;
      if (stackBefore && !stackBefore.includes(extra)) e.stack = stackBefore + extra;
    }
    throw e;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export class Runner {
  constructor({ shots }) {
    this.shots = shots;
    this.results = [];
    mkdirSync(shots, { recursive: true });
  }

  shotPath(name) {
    return join(this.shots, `${name}.png`);
  }

  async test(name, fn, { timeout = 60_000 } = {}) {
    const t0 = Date.now();
    let error = null;
    let skipped = null;
    let timer;
    try {
      await Promise.race([
        fn({ skip: (why) => (skipped = why) }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout))),
      ]);
    } catch (e) {
      error = e;
      let i = 0;
      const notes = [];
      for (const page of openPages) {
        await page.screenshot({ path: join(this.shots, `FAILED-${name}-${i++}.png`) }).catch(() => {});
        // What the user would have seen: the URL, toasts and error banners.
        const seen = await page
          .locator('.toast, .form-error, [role=alert]')
          .allInnerTexts()
          .catch(() => []);
        notes.push(`page ${page.url()}: ${seen.length ? seen.join(' | ') : 'no toasts or errors shown'}`);
      }
      const tail = serverLog().split('\n').slice(-40).join('\n');
      const extra = `\n--- pages\n${notes.join('\n')}\n--- last lines of the server log\n${tail}`;
      if (!(error instanceof Error)) error = new Error(String(error));
      // V8 renders `stack` from `message` on first read: extend whichever
      // has not got it yet, never both.
      const stackBefore = error.stack;
      error.message += extra;
      if (stackBefore && !stackBefore.includes(extra)) error.stack = stackBefore + extra;
    } finally {
      clearTimeout(timer);
      for (const c of openContexts) await c.close().catch(() => {});
      openContexts.clear();
    }
    const seconds = (Date.now() - t0) / 1000;
    const status = error ? 'failed' : skipped ? 'skipped' : 'passed';
    this.results.push({ name, seconds, status, error, skipped });
    const mark = status === 'passed' ? 'ok  ' : status === 'skipped' ? 'skip' : 'FAIL';
    console.log(`${mark} ${name} (${seconds.toFixed(1)} s)${skipped ? ` — ${skipped}` : ''}`);
    if (error) console.log(String(error.stack ?? error).replace(/^/gm, '     '));
  }

  writeJUnit(path) {
    // Control characters (ANSI colour codes in Playwright's messages) are not
    // allowed in XML 1.0: drop them before escaping.
    const esc = (s) =>
      String(s)
        .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
        .replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
    const failures = this.results.filter((r) => r.status === 'failed').length;
    const skipped = this.results.filter((r) => r.status === 'skipped').length;
    const total = this.results.reduce((s, r) => s + r.seconds, 0);
    const cases = this.results.map((r) => {
      const open = `  <testcase classname="browser" name="${esc(r.name)}" time="${r.seconds.toFixed(3)}"`;
      if (r.status === 'passed') return `${open}/>`;
      if (r.status === 'skipped') return `${open}>\n    <skipped message="${esc(r.skipped)}"/>\n  </testcase>`;
      const msg = r.error?.message ?? String(r.error);
      return `${open}>\n    <failure message="${esc(msg)}">${esc(r.error?.stack ?? msg)}</failure>\n  </testcase>`;
    });
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<testsuites tests="${this.results.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">\n` +
      `<testsuite name="browser" tests="${this.results.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">\n` +
      cases.join('\n') +
      `\n</testsuite>\n</testsuites>\n`;
    writeFileSync(path, xml);
    return { failures, skipped, passed: this.results.length - failures - skipped };
  }
}
