// The Resources of an operation instance: what its job asks of the backend
// (docs/compute.md, "Resources per operation"), kept as the reserved
// attributes job_cpus, job_memory_mb, job_gpus, job_gpu_type, job_timeout_s,
// job_partition and job_backend on the instance. An empty field means unset
// (del_attr: the definition's value, if it has one, else the backend's
// default). This module parses and checks what is typed, formats what is
// stored, and says what an edit writes; ResourcesSection.tsx is its view.
// Pure: no React, no network.

import type { Backend } from '@kiln/client';
import { decideSave, effectiveAttr, jsonEqual, type Guid, type JobAttribute, type JsonValue, type Op, type Tree } from '../model';

export type ResourceKind =
  /** A whole number ≥ 1 (CPUs). */
  | 'count'
  /** A whole number ≥ 0 (GPUs: 0 says "none", over a definition's default). */
  | 'gpus'
  /** MiB, a whole number ≥ 1; "16G", "512M" are converted. */
  | 'memory'
  /** Seconds > 0; "2h", "1h 30m", "1:30:00", "2-00:00:00" are converted. */
  | 'duration'
  /** A Slurm name without spaces (partition, GPU type). */
  | 'name'
  /** One of the server's backends. */
  | 'backend';

export interface ResourceSpec {
  readonly attribute: JobAttribute;
  readonly label: string;
  readonly kind: ResourceKind;
  /** Shown in the empty field. */
  readonly placeholder: string;
  readonly help: string;
}

export const RESOURCES: readonly ResourceSpec[] = [
  { attribute: 'job_cpus', label: 'CPUs', kind: 'count', placeholder: 'backend default', help: 'CPU threads (OMP_NUM_THREADS; Slurm --cpus-per-task)' },
  {
    attribute: 'job_memory_mb',
    label: 'Memory (MiB)',
    kind: 'memory',
    placeholder: 'server default',
    help: 'The memory limit in MiB; 16G or 512M are converted (Slurm --mem)',
  },
  { attribute: 'job_gpus', label: 'GPUs', kind: 'gpus', placeholder: '0', help: 'GPUs the job needs (CUDA_VISIBLE_DEVICES; Slurm --gres/--gpus)' },
  { attribute: 'job_gpu_type', label: 'GPU type', kind: 'name', placeholder: 'any', help: 'A GPU model such as a100, as the cluster names it' },
  {
    attribute: 'job_timeout_s',
    label: 'Time limit',
    kind: 'duration',
    placeholder: 'none',
    help: 'Wall-clock limit: seconds, or 30m, 2h, 1h 30m, 1:30:00, 2-00:00:00 (Slurm --time)',
  },
  { attribute: 'job_partition', label: 'Partition', kind: 'name', placeholder: 'backend default', help: 'The Slurm partition (ignored by local backends)' },
  { attribute: 'job_backend', label: 'Backend', kind: 'backend', placeholder: 'as the run says', help: 'Where this operation always runs, whatever the run chooses' },
];

export type Parsed = { readonly ok: true; readonly value: JsonValue | null } | { readonly ok: false; readonly error: string };

const MiB_PER: Readonly<Record<string, number>> = { m: 1, mb: 1, mib: 1, g: 1024, gb: 1024, gib: 1024, t: 1024 * 1024, tb: 1024 * 1024, tib: 1024 * 1024 };
const SECONDS_PER: Readonly<Record<string, number>> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** What the user typed, as the attribute's value; null = unset (an empty field). */
export function parseResource(spec: ResourceSpec, text: string): Parsed {
  const t = text.trim();
  if (t === '') return { ok: true, value: null };
  switch (spec.kind) {
    case 'count':
    case 'gpus': {
      const min = spec.kind === 'count' ? 1 : 0;
      if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) return { ok: false, error: `${spec.label}: expected a whole number such as ${min === 1 ? 4 : 1}` };
      const n = Number(t);
      if (n < min) return { ok: false, error: `${spec.label}: at least ${min} (leave it empty for the default)` };
      return { ok: true, value: n };
    }
    case 'memory':
      return parseMemory(t);
    case 'duration':
      return parseDuration(t);
    case 'name':
      if (/[\s:,'"]/.test(t)) return { ok: false, error: `${spec.label}: one name, without spaces, colons, commas or quotes` };
      return { ok: true, value: t };
    case 'backend':
      return { ok: true, value: t };
  }
}

function parseMemory(t: string): Parsed {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(t);
  const per = m ? MiB_PER[m[2]!.toLowerCase() || 'm'] : undefined;
  if (!m || per === undefined) return { ok: false, error: 'Memory: expected MiB such as 4096, or 16G' };
  const mib = Number(m[1]) * per;
  if (!Number.isSafeInteger(mib)) return { ok: false, error: `Memory: ${t} is not a whole number of MiB` };
  if (mib < 1) return { ok: false, error: 'Memory: at least 1 MiB (leave it empty for the default)' };
  return { ok: true, value: mib };
}

function parseDuration(t: string): Parsed {
  const bad: Parsed = { ok: false, error: 'Time limit: expected seconds, or 30m, 2h, 1h 30m, 1:30:00' };
  let seconds: number;
  const clock = /^(?:(\d+)-)?(\d+(?::\d{1,2}){0,2})$/.exec(t);
  if (clock && (clock[1] !== undefined || clock[2]!.includes(':'))) {
    // Slurm's forms: [D-]HH:MM:SS, MM:SS, D-HH[:MM]. A bare number is seconds (below).
    const parts = clock[2]!.split(':').map(Number);
    const days = Number(clock[1] ?? 0);
    const [h, m, s] =
      clock[1] !== undefined ? [parts[0]!, parts[1] ?? 0, parts[2] ?? 0] : parts.length === 3 ? parts : [0, parts[0]!, parts[1]!];
    if (m! >= 60 || s! >= 60) return bad;
    seconds = days * 86400 + h! * 3600 + m! * 60 + s!;
  } else if (/^\d+(\.\d+)?$/.test(t)) {
    seconds = Number(t);
  } else {
    const units = /(\d+(?:\.\d+)?)\s*(sec|min|s|m|h|d)\s*/gy;
    seconds = 0;
    let end = 0;
    for (let u = units.exec(t); u; u = units.exec(t)) {
      seconds += Number(u[1]) * SECONDS_PER[u[2]!]!;
      end = units.lastIndex;
    }
    if (end === 0 || end !== t.length) return bad;
  }
  if (!Number.isFinite(seconds) || seconds <= 0) return { ok: false, error: 'Time limit: more than 0 seconds (leave it empty for none)' };
  return { ok: true, value: seconds };
}

/** A stored value as the field shows it (parseResource reads it back to the same value). */
export function formatResource(spec: ResourceSpec, value: JsonValue | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (spec.kind === 'duration' && typeof value === 'number') return formatDuration(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** 5400 → "1h 30m", 90 → "1m 30s", 86400 → "1d", 0.5 → "0.5s". */
export function formatDuration(seconds: number): string {
  if (!(seconds > 0)) return String(seconds);
  const out: string[] = [];
  let rest = seconds;
  for (const [unit, per] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    const n = Math.floor(rest / per);
    if (n > 0) out.push(`${n}${unit}`);
    rest -= n * per;
  }
  // Fractions of a second stay as typed (1.5 s), without float noise.
  if (rest > 0) out.push(`${Number(rest.toFixed(3))}s`);
  return out.join(' ');
}

/** One resource of an instance: its own value and the definition's, each null when unset. */
export interface ResourceValue {
  readonly spec: ResourceSpec;
  readonly own: JsonValue | null;
  /** The instance sets it (an own null, "none here", counts). */
  readonly hasOwn: boolean;
  readonly inherited: JsonValue | null;
}

export function resourceValues(tree: Tree, node: Guid): ResourceValue[] {
  const n = tree.nodes[node];
  const base = n?.base ?? null;
  return RESOURCES.map((spec) => {
    const hasOwn = n !== undefined && Object.hasOwn(n.attrs, spec.attribute);
    return {
      spec,
      own: hasOwn ? n.attrs[spec.attribute]! : null,
      hasOwn,
      inherited: base ? (effectiveAttr(tree, base, spec.attribute) ?? null) : null,
    };
  });
}

export type ResourceCommit =
  | { readonly kind: 'invalid'; readonly error: string }
  /** Write `value` (null: remove the instance's own value). */
  | { readonly kind: 'write'; readonly value: JsonValue | null }
  /** The stored value already is the typed one. */
  | { readonly kind: 'nothing'; readonly value: JsonValue | null }
  /** Someone else changed it while the user typed: they choose. */
  | { readonly kind: 'ask'; readonly base: JsonValue | null; readonly theirs: JsonValue | null; readonly mine: JsonValue | null };

/**
 * What committing `text` does, the typing having started from `base` while
 * the instance now holds `theirs` (as pipeline/collision.ts for attributes).
 */
export function commitResource(spec: ResourceSpec, text: string, base: JsonValue | null, theirs: JsonValue | null): ResourceCommit {
  const r = parseResource(spec, text);
  if (!r.ok) return { kind: 'invalid', error: r.error };
  const d = decideSave<JsonValue>(base, theirs, r.value);
  if (d.kind === 'nothing') return { kind: 'nothing', value: r.value };
  if (d.kind === 'save') return { kind: 'write', value: r.value };
  return { kind: 'ask', base, theirs, mine: r.value };
}

/** Whether `text` says something other than `base` (text that does not parse counts). */
export function resourceTyped(spec: ResourceSpec, text: string, base: JsonValue | null): boolean {
  const r = parseResource(spec, text);
  return !r.ok || !jsonEqual(r.value, base);
}

/** The ops that store `value` as the instance's own (null: remove it; nothing when it has none). */
export function resourceOps(node: Guid, spec: ResourceSpec, value: JsonValue | null, hasOwn: boolean): Op[] {
  if (value === null) return hasOwn ? [{ op: 'del_attr', node, name: spec.attribute }] : [];
  return [{ op: 'set_attr', node, name: spec.attribute, value }];
}

/** The value that applies: the instance's, else the definition's. */
function effective(v: ResourceValue): JsonValue | null {
  return v.hasOwn ? v.own : v.inherited;
}

function find(values: readonly ResourceValue[], attribute: JobAttribute): JsonValue | null {
  const v = values.find((x) => x.spec.attribute === attribute);
  return v ? effective(v) : null;
}

/** One line for the closed section: "4 CPUs · 16 GiB · 1 GPU a100 · 2h · partition gpu · on cluster"; "" when none is set. */
export function resourceSummary(values: readonly ResourceValue[]): string {
  const out: string[] = [];
  const cpus = find(values, 'job_cpus');
  if (typeof cpus === 'number') out.push(`${cpus} CPU${cpus === 1 ? '' : 's'}`);
  const mem = find(values, 'job_memory_mb');
  if (typeof mem === 'number') out.push(formatMemory(mem));
  const gpus = find(values, 'job_gpus');
  const type = find(values, 'job_gpu_type');
  if (typeof gpus === 'number' && gpus > 0) out.push(`${gpus} GPU${gpus === 1 ? '' : 's'}${typeof type === 'string' ? ` ${type}` : ''}`);
  const time = find(values, 'job_timeout_s');
  if (typeof time === 'number') out.push(formatDuration(time));
  const partition = find(values, 'job_partition');
  if (typeof partition === 'string') out.push(`partition ${partition}`);
  const backend = find(values, 'job_backend');
  if (typeof backend === 'string') out.push(`on ${backend}`);
  return out.join(' · ');
}

/** MiB for people: 512 → "512 MiB", 16384 → "16 GiB", 1536 → "1.5 GiB". */
export function formatMemory(mib: number): string {
  if (mib < 1024) return `${mib} MiB`;
  const gib = mib / 1024;
  return `${Number(gib.toFixed(gib < 10 ? 2 : 1))} GiB`;
}

/**
 * What the resources ask that the server cannot give, as far as the editor
 * can tell (the server checks again when the job is queued). Keyed by the
 * attribute the note is about. `backends` null: not known, nothing said of them.
 */
export function resourceWarnings(values: readonly ResourceValue[], backends: readonly Backend[] | null): Map<JobAttribute, string> {
  const out = new Map<JobAttribute, string>();
  const gpus = find(values, 'job_gpus');
  const type = find(values, 'job_gpu_type');
  if (typeof type === 'string' && !(typeof gpus === 'number' && gpus > 0))
    out.set('job_gpu_type', `A GPU type asks for nothing without a GPU count: set GPUs too.`);
  const name = find(values, 'job_backend');
  if (backends && backends.length > 0) {
    const backend = typeof name === 'string' ? backends.find((b) => b.name === name) : undefined;
    if (typeof name === 'string' && !backend)
      out.set('job_backend', `This server has no backend '${name}' (it has ${backends.map((b) => b.name).join(', ')}): the run will fail.`);
    if (backend?.kind === 'local' && typeof gpus === 'number' && gpus > backend.gpus)
      out.set('job_gpus', `Backend '${backend.name}' has ${backend.gpus} GPU${backend.gpus === 1 ? '' : 's'}: the job would be refused.`);
    // No backend named here: the run's choice or the default decides. Say
    // so when the default could not run it (the run menu may still pick
    // another backend, or the server's routing).
    const fallback = typeof name === 'string' ? undefined : backends.find((b) => b.default);
    if (fallback?.kind === 'local' && typeof gpus === 'number' && gpus > fallback.gpus)
      out.set(
        'job_gpus',
        `The default backend '${fallback.name}' has ${fallback.gpus} GPU${fallback.gpus === 1 ? '' : 's'}: run it on another backend, or the job will be refused.`,
      );
    const partition = find(values, 'job_partition');
    if (typeof partition === 'string' && !backends.some((b) => b.kind === 'slurm'))
      out.set('job_partition', 'This server has no Slurm backend: the partition is ignored.');
  }
  return out;
}
