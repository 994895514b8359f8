#!/usr/bin/env node
// check-openapi.mjs: is the committed OpenAPI snapshot (openapi.json, next to
// this file) still what a running Kiln server serves?
//
//   node check-openapi.mjs http://127.0.0.1:8080            # compare; exit 1 with a diff when it differs
//   node check-openapi.mjs http://127.0.0.1:8080 --write    # refresh the snapshot
//   node check-openapi.mjs URL --snapshot other.json        # another snapshot file
//
// URL is the server's origin or the full URL of /api/v1/openapi.json.
// KILN_TOKEN, when set, is sent as a bearer token (a server with --auth).
// Exit status: 0 equal (or written), 1 different, 2 bad usage or no answer.
//
// Both documents are compared in one canonical form (keys sorted, two-space
// indent), which is also how --write stores the snapshot, so a diff never
// comes from formatting. `info.version` is left out of the comparison: a new
// Kiln version with the same routes is not an API change. The diff lists the
// routes added, removed or re-described first (what a reviewer decides on),
// then the changed lines of everything else (parameters, responses).
//
// The client's own test (src/openapi.test.ts) checks the client against the
// snapshot; this script checks the snapshot against the server.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** The document with its object keys sorted, recursively (arrays keep their order). */
export function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

/** The canonical text of a document: what --write stores. */
export function canonicalText(doc) {
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}

/** The document as compared: without info.version. */
function comparable(doc) {
  const copy = structuredClone(doc);
  if (copy && typeof copy.info === 'object' && copy.info !== null) delete copy.info.version;
  return copy;
}

/** "METHOD /path" → summary, for every operation of the document. */
export function routesOf(doc) {
  const routes = new Map();
  const paths = doc && typeof doc.paths === 'object' && doc.paths !== null ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    for (const method of HTTP_METHODS) {
      const op = item?.[method];
      if (op) routes.set(`${method.toUpperCase()} ${path}`, String(op.summary ?? ''));
    }
  }
  return routes;
}

/** Lines saying which routes the server added, removed or re-described against the snapshot, by path. */
export function routeChanges(snapshot, served) {
  const before = routesOf(snapshot);
  const after = routesOf(served);
  const changes = []; // [route, line]
  for (const [route, summary] of after) {
    if (!before.has(route)) changes.push([route, `+ ${route}  (${summary})`]);
    else if (before.get(route) !== summary)
      changes.push([route, `~ ${route}  summary: ${JSON.stringify(before.get(route))} → ${JSON.stringify(summary)}`]);
  }
  for (const [route, summary] of before) if (!after.has(route)) changes.push([route, `- ${route}  (${summary})`]);
  // "GET /a" → "/a GET": a path's methods stay together.
  const byPath = (route) => route.split(' ').reverse().join(' ');
  return changes.sort((a, b) => byPath(a[0]).localeCompare(byPath(b[0]))).map(([, line]) => line);
}

/**
 * A line diff of two texts ("-" only in a, "+" only in b), from their longest
 * common subsequence; `context` unchanged lines around each change, "…" for a gap.
 */
export function lineDiff(a, b, context = 2) {
  const x = a.split('\n');
  const y = b.split('\n');
  // lcs[i][j]: length of the LCS of x[i..] and y[j..]; the documents are a few
  // thousand lines, so the table stays small.
  const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) ops.push([' ', x[i++], j++]);
    else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(['-', x[i++]]);
    else ops.push(['+', y[j++]]);
  }
  const keep = ops.map((op, k) => op[0] !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o[0] !== ' '));
  const out = [];
  let gap = false;
  ops.forEach((op, k) => {
    if (keep[k]) {
      out.push(`${op[0]} ${op[1]}`);
      gap = false;
    } else if (!gap) {
      out.push('…');
      gap = true;
    }
  });
  return out;
}

/** null when equal (but for info.version); otherwise the report's lines. */
export function compareDocuments(snapshot, served) {
  const a = canonicalText(comparable(snapshot));
  const b = canonicalText(comparable(served));
  if (a === b) return null;
  const routes = routeChanges(snapshot, served);
  return [
    ...(routes.length > 0 ? ['Routes (+ served, not in the snapshot; - in the snapshot, no longer served):', ...routes, ''] : []),
    'Document (- snapshot, + served):',
    ...lineDiff(a, b),
  ];
}

/** The URL of the OpenAPI document, from an origin or a full URL. */
export function openapiUrl(arg) {
  const url = new URL(arg);
  if (!url.pathname.endsWith('/openapi.json')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/openapi.json`;
  return url.href;
}

function parseArgs(argv) {
  const opts = { url: null, write: false, snapshot: fileURLToPath(new URL('./openapi.json', import.meta.url)) };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--write') opts.write = true;
    else if (a === '--snapshot') {
      if (argv[k + 1] === undefined) throw new Error('--snapshot needs a file');
      opts.snapshot = argv[++k];
    } else if (a === '-h' || a === '--help') opts.help = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (opts.url === null) opts.url = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!opts.help && opts.url === null) throw new Error('give the server URL, e.g. http://127.0.0.1:8080');
  return opts;
}

async function fetchDocument(url) {
  const headers = { Accept: 'application/json' };
  if (process.env.KILN_TOKEN) headers.Authorization = `Bearer ${process.env.KILN_TOKEN}`;
  let res;
  try {
    res = await fetch(url, { headers });
  } catch (e) {
    throw new Error(`cannot reach ${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url} did not answer JSON`);
  }
}

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error(`check-openapi: ${e.message}\nusage: node check-openapi.mjs URL [--write] [--snapshot FILE]`);
    return 2;
  }
  if (opts.help) {
    console.log('usage: node check-openapi.mjs URL [--write] [--snapshot FILE]');
    return 0;
  }
  let served;
  try {
    served = await fetchDocument(openapiUrl(opts.url));
  } catch (e) {
    console.error(`check-openapi: ${e.message}`);
    return 2;
  }
  if (opts.write) {
    await writeFile(opts.snapshot, canonicalText(served));
    console.log(`check-openapi: wrote ${opts.snapshot} (${routesOf(served).size} routes)`);
    return 0;
  }
  let snapshot;
  try {
    snapshot = JSON.parse(await readFile(opts.snapshot, 'utf8'));
  } catch (e) {
    console.error(`check-openapi: cannot read the snapshot ${opts.snapshot}: ${e.message}`);
    return 2;
  }
  const report = compareDocuments(snapshot, served);
  if (report === null) {
    console.log(`check-openapi: the server's API matches ${opts.snapshot} (${routesOf(served).size} routes)`);
    return 0;
  }
  console.log(`check-openapi: the server's API differs from ${opts.snapshot}`);
  console.log(report.join('\n'));
  console.log(
    '\nIf the change is intended: refresh the snapshot with --write, then update the client ' +
      '(or its NOT_IN_CLIENT list) until src/openapi.test.ts passes.',
  );
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
