// The scaffolding the browser benchmarks share (web_bench.mjs, arch_bench.mjs):
// command-line options with the kiln binary and the web build, the checks that
// they exist, the browser tests' harness (kiln serve + Debian's chromium via
// playwright-core), percentiles, and the table of figures with their goals.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Parses the options (`options`: the benchmark's own, beside --kiln, --web, --help),
 * prints the file's header comment (lines 2..helpEnd) for --help, checks the binary and
 * the web build, loads the harness. Exits 1 naming what is missing.
 */
export async function benchSetup(name, file, options, helpEnd) {
  const { values: args } = parseArgs({
    options: {
      kiln: { type: 'string', default: join(root, 'build/src/cli/kiln') },
      web: { type: 'string', default: join(root, 'web/dist') },
      help: { type: 'boolean', short: 'h' },
      ...options,
    },
  });
  if (args.help) {
    const lines = readFileSync(fileURLToPath(file), 'utf8').split('\n').slice(1, helpEnd);
    console.log(lines.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  }
  const die = (msg) => {
    console.error(`${name}: ${msg}`);
    process.exit(1);
  };
  for (const [what, p] of [['kiln binary', args.kiln], ['web build', join(args.web, 'index.html')]])
    if (!existsSync(p)) die(`no ${what} at ${p} (build it: ninja -C build kiln; cd web && npm run build)`);
  let harness;
  try {
    harness = await import(join(root, 'web/tests/browser/harness.mjs'));
  } catch (e) {
    die(`cannot load web/tests/browser/harness.mjs / playwright-core (cd web && npm ci): ${e.message}`);
  }
  return { args, die, harness };
}

/** "web_bench: 2 cpus, load average …" and which binary and build are measured. */
export async function describeMachine(name, args) {
  const cpus = (await import('node:os')).cpus().length;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`${name}: ${cpus} cpus, load average ${load}`);
  const built = statSync(join(args.web, 'index.html')).mtime.toISOString();
  console.log(`${name}: kiln ${relative(process.cwd(), args.kiln) || args.kiln}, web ${relative(process.cwd(), args.web) || args.web} (built ${built})`);
}

export const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The figures: row() adds one (PASS/MISS when `pass` is a boolean); print() writes the table. */
export class Figures {
  rows = [];
  row(figure, value, unit, goal = '', pass = null) {
    this.rows.push({ figure, value, unit, goal, label: pass === null ? '' : pass ? 'PASS' : 'MISS' });
  }
  print(title) {
    const rows = this.rows;
    const w0 = Math.max(...rows.map((r) => r.figure.length));
    const w1 = Math.max(...rows.map((r) => r.value.length));
    const w2 = Math.max(...rows.map((r) => r.unit.length));
    const w3 = Math.max(...rows.map((r) => r.goal.length));
    console.log(`\n${title}`);
    console.log(`${'figure'.padEnd(w0)}  ${'value'.padStart(w1)} ${'unit'.padEnd(w2)}  ${'goal'.padEnd(w3)}  label`);
    console.log('-'.repeat(w0 + w1 + w2 + w3 + 12));
    for (const r of rows) console.log(`${r.figure.padEnd(w0)}  ${r.value.padStart(w1)} ${r.unit.padEnd(w2)}  ${r.goal.padEnd(w3)}  ${r.label}`.trimEnd());
  }
}

/** The server and browser a benchmark started, closed on exit and on Ctrl-C. */
export class Resources {
  server = null;
  browser = null;
  constructor() {
    process.on('SIGINT', async () => {
      await this.cleanup();
      process.exit(130);
    });
  }
  async cleanup() {
    await this.browser?.close().catch(() => {});
    await this.server?.stop().catch(() => {});
  }
}
