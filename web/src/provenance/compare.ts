// Comparing the lineages of two artifacts ("why do these two models
// differ?"). Pure: two checked lineages in, a LineageComparison out.
//
// 1. Jobs are matched: the same job on both sides (equal bytes upstream are
//    walked to the same original job), else the same operation instance
//    (node guid) of the pipeline, else the same name at the nearest position
//    in the chain (level); what is left is only on one side.
// 2. Each pair is diffed: code (a line diff), attribute values, the
//    resources it ran with (an architecture's generated code), input digests
//    (and why an input differs: its producer differs, the uploaded data
//    differs, or its producer is the same and still made other bytes),
//    runtime (python, torch, kiln, backend, host) and its outputs.
// 3. Each pair gets a cause — its own change (code, attributes, resources),
//    only its inputs, only its runtime, nothing at all although its outputs
//    differ (nondeterminism) — and the comparison lists the root causes
//    first: the changes a scientist made, then data, then environment.
import type { JsonValue } from '../model';
import { changedLines, lineDiff, type DiffLine } from './lineDiff';
import type { ArtifactOriginRecord, Lineage, LineageArtifact, LineageJob, OperationSnapshot } from './types';

export type PairMatch = 'same-job' | 'node' | 'name';

export interface JobPair {
  readonly a: LineageJob | null;
  readonly b: LineageJob | null;
  /** How the two were matched; null when the job is on one side only. */
  readonly match: PairMatch | null;
}

export interface AttributeChange {
  readonly name: string;
  /** undefined: the attribute is not set on that side. */
  readonly a: JsonValue | undefined;
  readonly b: JsonValue | undefined;
}

export type InputReason =
  /** The input exists on one side only. */
  | 'missing'
  /** Both made by jobs, and those jobs differ (or are not a pair). */
  | 'producer-differs'
  /** Both made by matched jobs that differ in nothing: the producer is not reproducible. */
  | 'producer-nondeterministic'
  /** Both uploaded (forked, imported): different data. */
  | 'data-differs'
  /** One side made by a job, the other uploaded, or unknown. */
  | 'origin-differs';

export interface InputChange {
  readonly input: string;
  readonly a: string | null;
  readonly b: string | null;
  readonly reason: InputReason;
  /** What the reason is about, in words: "Prepare differs", "digits.npz (ada) → digits2.npz (bob)". */
  readonly detail: string;
}

export interface ValueChange {
  readonly key: string;
  readonly a: string | null;
  readonly b: string | null;
}

export interface ResourceChange {
  /** The attribute that referenced it and the file: "net: kiln_architecture_3f9a.py". */
  readonly resource: string;
  readonly file: string;
  readonly diff: readonly DiffLine[];
}

export type Cause =
  | 'identical'
  /** Something differs but the outputs are the same bytes. */
  | 'same-result'
  | 'own'
  | 'inputs'
  | 'runtime'
  | 'nondeterministic'
  | 'only-a'
  | 'only-b';

export interface JobDiff {
  readonly pair: JobPair;
  /** The key used by the views (the two job ids). */
  readonly key: string;
  readonly name: string;
  /** The line diff when the code differs, else null. */
  readonly code: readonly DiffLine[] | null;
  readonly attributes: readonly AttributeChange[];
  readonly resources: readonly ResourceChange[];
  readonly inputs: readonly InputChange[];
  readonly runtime: readonly ValueChange[];
  /** Outputs whose digests differ (or that one side lacks). */
  readonly outputs: readonly ValueChange[];
  readonly cause: Cause;
}

export interface LineageComparison {
  /** Whether the two artifacts are the same bytes. */
  readonly sameArtifact: boolean;
  /** Upstream first (the data), down to the compared artifacts' producers. */
  readonly jobs: readonly JobDiff[];
  /** The differences that explain the rest, most actionable first, as sentences. */
  readonly causes: readonly string[];
  /** Jobs that differ only because their inputs did. */
  readonly downstream: readonly string[];
}

// ---- matching ----

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/** Pairs the jobs of two lineages (see the header); each job is in exactly one pair. */
export function matchJobs(a: Lineage, b: Lineage): JobPair[] {
  const leftA = [...a.jobs];
  const leftB = [...b.jobs];
  const pairs: JobPair[] = [];
  const take = (x: LineageJob, y: LineageJob, match: PairMatch) => {
    pairs.push({ a: x, b: y, match });
    remove(leftA, x);
    remove(leftB, y);
  };
  for (const x of [...leftA]) {
    const y = leftB.find((j) => j.id === x.id);
    if (y) take(x, y, 'same-job');
  }
  // Nearest level first, so two runs of one instance in a chain pair in order.
  const nearest = (x: LineageJob, same: (y: LineageJob) => boolean) =>
    leftB.filter(same).sort((p, q) => Math.abs(p.level - x.level) - Math.abs(q.level - x.level))[0];
  for (const x of [...leftA]) {
    const y = nearest(x, (j) => j.node === x.node);
    if (y) take(x, y, 'node');
  }
  for (const x of [...leftA]) {
    const y = nearest(x, (j) => j.name === x.name);
    if (y) take(x, y, 'name');
  }
  for (const x of leftA) pairs.push({ a: x, b: null, match: null });
  for (const y of leftB) pairs.push({ a: null, b: y, match: null });
  // Upstream first: the highest level (of either side) first; then by name.
  const level = (p: JobPair) => Math.max(p.a?.level ?? -1, p.b?.level ?? -1);
  const name = (p: JobPair) => (p.a ?? p.b)!.name;
  return pairs.sort((p, q) => level(q) - level(p) || name(p).localeCompare(name(q)));
}

// ---- diffing one pair ----

function snapshot(l: Lineage, j: LineageJob): OperationSnapshot {
  return l.operations[j.operation]!;
}

function jsonKey(v: JsonValue | undefined): string {
  return v === undefined ? '\u0000absent' : stableJson(v);
}

/** JSON with object keys sorted, so {a, b} equals {b, a}. */
export function stableJson(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, JsonValue>)[k]!)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function attributeChanges(a: OperationSnapshot, b: OperationSnapshot): AttributeChange[] {
  const names = [...new Set([...Object.keys(a.attributes), ...Object.keys(b.attributes)])].sort();
  return names
    .filter((n) => jsonKey(a.attributes[n]) !== jsonKey(b.attributes[n]))
    .map((n) => ({ name: n, a: a.attributes[n], b: b.attributes[n] }));
}

function resourceChanges(a: OperationSnapshot, b: OperationSnapshot): ResourceChange[] {
  const out: ResourceChange[] = [];
  for (const r of [...new Set([...Object.keys(a.resources), ...Object.keys(b.resources)])].sort()) {
    const fa = a.resources[r]?.files ?? {};
    const fb = b.resources[r]?.files ?? {};
    for (const f of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
      if (fa[f] === fb[f]) continue;
      out.push({ resource: r, file: f, diff: lineDiff(fa[f] ?? '', fb[f] ?? '') });
    }
  }
  return out;
}

function valueChanges(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): ValueChange[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((k) => a[k] !== b[k])
    .map((k) => ({ key: k, a: a[k] ?? null, b: b[k] ?? null }));
}

/** "digits.npz uploaded by ada", "output train of Prepare", … */
export function originText(l: Lineage, art: LineageArtifact | undefined): string {
  if (!art) return 'not in the lineage';
  return describeOrigin(art.origin, (id) => l.jobs.find((j) => j.id === id)?.name ?? null);
}

export function describeOrigin(o: ArtifactOriginRecord, jobName: (id: string) => string | null): string {
  if (o.kind === 'job') return `output ${o.output} of ${jobName(o.job) ?? `job ${o.job.slice(0, 8)}`}`;
  if (o.kind === 'unknown') return 'origin unknown';
  const verb = o.kind === 'upload' ? 'uploaded' : o.kind === 'fork' ? 'forked' : 'imported';
  const by = o.user ? ` by ${o.user}` : '';
  return o.source ? `${verb}${by}: ${o.source}` : `${verb}${by}`;
}

interface Side {
  readonly lineage: Lineage;
  readonly artifacts: ReadonlyMap<string, LineageArtifact>;
  /** Artifact digest → the job that made it. */
  readonly producer: ReadonlyMap<string, LineageJob>;
}

function side(l: Lineage): Side {
  const jobs = new Map(l.jobs.map((j) => [j.id, j]));
  const producer = new Map<string, LineageJob>();
  for (const g of l.generated) {
    const j = jobs.get(g.job);
    if (j && !producer.has(g.artifact)) producer.set(g.artifact, j);
  }
  return { lineage: l, artifacts: new Map(l.artifacts.map((x) => [x.digest, x])), producer };
}

// ---- the comparison ----

/** Compares the lineages of two artifacts (see the header). */
export function compareLineages(a: Lineage, b: Lineage): LineageComparison {
  const sa = side(a);
  const sb = side(b);
  const pairs = matchJobs(a, b);
  const partnerOf = new Map<LineageJob, LineageJob | null>();
  for (const p of pairs) {
    if (p.a) partnerOf.set(p.a, p.b);
    if (p.b) partnerOf.set(p.b, p.a);
  }
  // Own differences first (they do not depend on other jobs); the input
  // reasons then read the producers' own differences.
  const own = new Map<JobPair, Omit<JobDiff, 'inputs' | 'cause'>>();
  for (const p of pairs) own.set(p, ownDiff(a, b, p));
  const ownChanged = (j: LineageJob | undefined) => {
    if (!j) return true;
    const p = pairs.find((x) => x.a === j || x.b === j)!;
    const d = own.get(p)!;
    return p.a === null || p.b === null || d.code !== null || d.attributes.length > 0 || d.resources.length > 0;
  };

  const diffs: JobDiff[] = pairs.map((p) => {
    const d = own.get(p)!;
    if (!p.a || !p.b) return { ...d, inputs: [], cause: p.a ? 'only-a' : 'only-b' };
    const inputs = inputChanges(sa, sb, p.a, p.b, partnerOf, ownChanged);
    const ownChange = d.code !== null || d.attributes.length > 0 || d.resources.length > 0;
    const cause: Cause =
      d.outputs.length === 0
        ? ownChange || inputs.length > 0 || d.runtime.length > 0
          ? 'same-result'
          : 'identical'
        : ownChange
          ? 'own'
          : inputs.length > 0
            ? 'inputs'
            : d.runtime.length > 0
              ? 'runtime'
              : 'nondeterministic';
    return { ...d, inputs, cause };
  });
  return {
    sameArtifact: a.artifact === b.artifact,
    jobs: diffs,
    causes: rootCauses(diffs),
    downstream: diffs.filter((d) => d.cause === 'inputs').map((d) => d.name),
  };
}

function ownDiff(a: Lineage, b: Lineage, p: JobPair): Omit<JobDiff, 'inputs' | 'cause'> {
  const key = `${p.a?.id ?? ''}|${p.b?.id ?? ''}`;
  const name = p.a && p.b && p.a.name !== p.b.name ? `${p.a.name} / ${p.b.name}` : (p.a ?? p.b)!.name;
  if (!p.a || !p.b) return { pair: p, key, name, code: null, attributes: [], resources: [], runtime: [], outputs: [] };
  const oa = snapshot(a, p.a);
  const ob = snapshot(b, p.b);
  const code = oa.code === ob.code ? null : lineDiff(oa.code, ob.code);
  return {
    pair: p,
    key,
    name,
    // Only whitespace at the end of the file: no line differs, nothing to show.
    code: code && changedLines(code) > 0 ? code : null,
    attributes: attributeChanges(oa, ob),
    resources: resourceChanges(oa, ob),
    runtime: valueChanges(p.a.runtime, p.b.runtime),
    outputs: valueChanges(p.a.outputs, p.b.outputs),
  };
}

function inputChanges(
  sa: Side,
  sb: Side,
  ja: LineageJob,
  jb: LineageJob,
  partnerOf: ReadonlyMap<LineageJob, LineageJob | null>,
  ownChanged: (j: LineageJob | undefined) => boolean,
): InputChange[] {
  const out: InputChange[] = [];
  for (const input of [...new Set([...Object.keys(ja.inputs), ...Object.keys(jb.inputs)])].sort()) {
    const da = ja.inputs[input] ?? null;
    const db = jb.inputs[input] ?? null;
    if (da === db) continue;
    if (da === null || db === null) {
      out.push({ input, a: da, b: db, reason: 'missing', detail: da === null ? 'only in the second' : 'only in the first' });
      continue;
    }
    const pa = sa.producer.get(da);
    const pb = sb.producer.get(db);
    if (pa && pb) {
      const paired = partnerOf.get(pa) === pb;
      const differs = !paired || ownChanged(pa) || !sameInputs(pa, pb) || valueChanges(pa.runtime, pb.runtime).length > 0;
      out.push({
        input,
        a: da,
        b: db,
        reason: differs ? 'producer-differs' : 'producer-nondeterministic',
        detail: !paired
          ? `made by ${pa.name} and by ${pb.name}, not the same operation`
          : differs
            ? `its producer ${pa.name} differs`
            : `its producer ${pa.name} is the same (code, attributes, inputs, runtime) yet made other bytes`,
      });
      continue;
    }
    const oa = sa.artifacts.get(da);
    const ob = sb.artifacts.get(db);
    const uploaded = (x: LineageArtifact | undefined) => x !== undefined && x.origin.kind !== 'job' && x.origin.kind !== 'unknown';
    out.push({
      input,
      a: da,
      b: db,
      reason: !pa && !pb && uploaded(oa) && uploaded(ob) ? 'data-differs' : 'origin-differs',
      detail: `${originText(sa.lineage, oa)} → ${originText(sb.lineage, ob)}`,
    });
  }
  return out;
}

function sameInputs(a: LineageJob, b: LineageJob): boolean {
  return valueChanges(a.inputs, b.inputs).length === 0;
}

/** "a → b" for an attribute or runtime value; absent values say so. */
export function changeText(a: JsonValue | string | null | undefined, b: JsonValue | string | null | undefined): string {
  const show = (v: JsonValue | string | null | undefined) => (v === undefined || v === null ? '(not set)' : typeof v === 'string' ? v : stableJson(v));
  return `${show(a)} → ${show(b)}`;
}

function rootCauses(diffs: readonly JobDiff[]): string[] {
  const out: string[] = [];
  for (const d of diffs) {
    if (d.cause === 'only-a') out.push(`${d.name} is only in the first lineage`);
    if (d.cause === 'only-b') out.push(`${d.name} is only in the second lineage`);
    if (d.cause !== 'own' && d.cause !== 'same-result') continue;
    const parts: string[] = [];
    if (d.code) parts.push(`its code (${changedLines(d.code)} line${changedLines(d.code) === 1 ? '' : 's'})`);
    for (const c of d.attributes) parts.push(`${c.name}: ${changeText(c.a, c.b)}`);
    for (const r of d.resources) parts.push(`the code of ${r.resource} (${r.file})`);
    if (parts.length === 0) continue;
    const verb = d.cause === 'same-result' ? 'changed but made the same bytes' : 'changed';
    out.push(`${d.name} ${verb}: ${parts.join('; ')}`);
  }
  for (const d of diffs)
    for (const i of d.inputs)
      if (i.reason === 'data-differs' || i.reason === 'origin-differs') out.push(`${d.name}'s input ${i.input} is other data: ${i.detail}`);
  // A runtime change next to another cause may matter too (a new torch changes numerics).
  for (const d of diffs)
    if ((d.cause === 'own' || d.cause === 'inputs') && d.runtime.length > 0)
      out.push(`${d.name} also ran with another runtime (${d.runtime.map((r) => `${r.key} ${changeText(r.a, r.b)}`).join(', ')})`);
  for (const d of diffs) {
    if (d.cause === 'nondeterministic') out.push(`${d.name} is the same (code, attributes, inputs, runtime) yet made other bytes: it is not deterministic`);
    if (d.cause === 'runtime')
      out.push(`${d.name} differs only in its runtime (${d.runtime.map((r) => `${r.key} ${changeText(r.a, r.b)}`).join(', ')})`);
  }
  return out;
}
