// What the "Sweep…" dialog needs without React: the attributes a sweep can
// vary (every operation instance of the pipeline with its effective, typed
// attributes, as the inspector shows them), the parsing of what the user typed
// for each (a list "0.001, 0.003, 0.01" or a range), the request of
// docs/sweeps.md, and the number of trials it makes. The server checks the
// request again; the messages here only say it earlier and in the user's terms.
import type { StartSweepRequest, SweepMode, SweepParameter, SweepRange } from '@kiln/client';
import type { Guid, JsonValue, Tree } from '../model';
import { operationKind } from '../pipeline/data';
import { attributeFields, pipelineGraph, type AttributeType } from '../pipeline/model';

/** At most this many grid trials (docs/sweeps.md). */
export const MAX_GRID_TRIALS = 1000;

export interface SweepableAttribute {
  readonly node: Guid;
  readonly nodeName: string;
  readonly attribute: string;
  readonly type: AttributeType;
  /** The value the pipeline gives it now. */
  readonly value: JsonValue;
}

/** "Train.epochs": how a sweep names a parameter in its trials. */
export function parameterKey(p: { readonly nodeName: string; readonly attribute: string }): string {
  return `${p.nodeName}.${p.attribute}`;
}

/** Attributes an Input or Output keeps for Kiln (what it reads and how): not parameters. */
const DATA_ATTRIBUTES = new Set(['artifact', 'serializer']);

/** Every attribute of every operation of the pipeline, by operation then the code's order. */
export function sweepableAttributes(tree: Tree, pipeline: Guid): SweepableAttribute[] {
  const out: SweepableAttribute[] = [];
  const ops = [...pipelineGraph(tree, pipeline).nodes].sort((a, b) => a.name.localeCompare(b.name));
  for (const op of ops) {
    const isOperation = operationKind(tree, op.id) === 'operation';
    for (const f of attributeFields(tree, op.id)) {
      if (!isOperation && DATA_ATTRIBUTES.has(f.name)) continue;
      if (f.type === 'json') continue; // lists and objects: nothing to type as a list of values
      out.push({ node: op.id, nodeName: op.name, attribute: f.name, type: f.type, value: f.value });
    }
  }
  return out;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** One value typed for an attribute, kept in the attribute's type (an int stays an int). */
export function parseValue(type: AttributeType, text: string): Parsed<JsonValue> {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'an empty value' };
  if (type === 'int') {
    const n = Number(t);
    if (!Number.isInteger(n)) return { ok: false, error: `“${t}” is not a whole number` };
    return { ok: true, value: n };
  }
  if (type === 'float') {
    const n = Number(t);
    if (!Number.isFinite(n)) return { ok: false, error: `“${t}” is not a number` };
    return { ok: true, value: n };
  }
  if (type === 'bool') {
    if (/^(true|yes|1)$/i.test(t)) return { ok: true, value: true };
    if (/^(false|no|0)$/i.test(t)) return { ok: true, value: false };
    return { ok: false, error: `“${t}” is not true or false` };
  }
  // Strings: quotes are optional ("a", 'b' or c).
  const quoted = /^(["'])(.*)\1$/.exec(t);
  return { ok: true, value: quoted ? quoted[2]! : t };
}

/** "0.001, 0.003, 0.01" → the values, each in the attribute's type; at least one, no repeats. */
export function parseList(type: AttributeType, text: string): Parsed<JsonValue[]> {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.every((p) => p === '')) return { ok: false, error: 'give at least one value' };
  const values: JsonValue[] = [];
  for (const p of parts) {
    if (p === '') return { ok: false, error: 'an empty value between commas' };
    const v = parseValue(type, p);
    if (!v.ok) return v;
    if (values.some((x) => x === v.value)) return { ok: false, error: `${JSON.stringify(v.value)} is listed twice` };
    values.push(v.value);
  }
  return { ok: true, value: values };
}

/** What the dialog's range fields hold, as typed. */
export interface RangeText {
  readonly min: string;
  readonly max: string;
  readonly steps: string;
  readonly log: boolean;
  readonly integer: boolean;
}

/** A range for a numeric attribute; `steps` is needed in grid mode only. */
export function parseRange(type: AttributeType, r: RangeText, mode: SweepMode): Parsed<SweepRange> {
  if (type !== 'int' && type !== 'float') return { ok: false, error: `a range needs a number attribute (this one is ${type})` };
  const min = Number(r.min.trim());
  const max = Number(r.max.trim());
  if (r.min.trim() === '' || !Number.isFinite(min)) return { ok: false, error: 'the minimum is not a number' };
  if (r.max.trim() === '' || !Number.isFinite(max)) return { ok: false, error: 'the maximum is not a number' };
  if (!(min < max)) return { ok: false, error: 'the minimum must be below the maximum' };
  if (r.log && min <= 0) return { ok: false, error: 'a logarithmic range needs a minimum above 0' };
  const integer = r.integer || type === 'int';
  if (integer && Math.floor(max) < Math.ceil(min)) return { ok: false, error: 'no whole number lies in this range' };
  const range: { -readonly [K in keyof SweepRange]: SweepRange[K] } = { min, max };
  if (r.log) range.log = true;
  if (integer) range.integer = true;
  if (mode === 'grid') {
    const steps = Number(r.steps.trim());
    if (!Number.isInteger(steps) || steps < 2) return { ok: false, error: 'a grid range needs 2 or more steps' };
    range.steps = steps;
  }
  return { ok: true, value: range };
}

/**
 * The values a grid range tries, as the spec says: `steps` evenly spaced
 * (geometric when log), rounded when integer — rounding can merge values, so
 * they are deduplicated (the dialog shows them; the server decides).
 */
export function gridValues(range: SweepRange): number[] {
  const steps = range.steps ?? 2;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = steps === 1 ? 0 : i / (steps - 1);
    let v = range.log ? range.min * Math.pow(range.max / range.min, t) : range.min + (range.max - range.min) * t;
    if (range.integer) v = Math.round(v);
    else v = Number(v.toPrecision(12)); // 0.1 + 0.2 noise out of the preview
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** One row of the dialog: an attribute and what to try. */
export interface ParameterChoice {
  readonly attribute: SweepableAttribute;
  readonly how: 'list' | 'range';
  readonly list: string;
  readonly range: RangeText;
}

export interface SweepPlan {
  readonly request: StartSweepRequest;
  readonly trials: number;
}

/**
 * The request for the chosen parameters, or every problem found (keyed
 * "Train.epochs" for a row's message, "" for the sweep as a whole).
 */
export function planSweep(
  pipeline: Guid,
  ref: string,
  choices: readonly ParameterChoice[],
  mode: SweepMode,
  samplesText: string,
  seedText: string,
): { ok: true; plan: SweepPlan } | { ok: false; errors: ReadonlyMap<string, string> } {
  const errors = new Map<string, string>();
  if (choices.length === 0) errors.set('', 'Pick at least one attribute to vary.');
  const parameters: SweepParameter[] = [];
  const sizes: number[] = [];
  for (const c of choices) {
    const key = parameterKey(c.attribute);
    if (c.how === 'list') {
      const l = parseList(c.attribute.type, c.list);
      if (!l.ok) errors.set(key, `${key}: ${l.error}`);
      else {
        parameters.push({ node: c.attribute.node, attribute: c.attribute.attribute, values: l.value });
        sizes.push(l.value.length);
      }
    } else {
      const r = parseRange(c.attribute.type, c.range, mode);
      if (!r.ok) errors.set(key, `${key}: ${r.error}`);
      else {
        parameters.push({ node: c.attribute.node, attribute: c.attribute.attribute, range: r.value });
        sizes.push(mode === 'grid' ? gridValues(r.value).length : 1);
      }
    }
  }
  let samples: number | undefined;
  let seed: number | undefined;
  if (mode === 'random') {
    samples = Number(samplesText.trim());
    if (!Number.isInteger(samples) || samples < 1) errors.set('samples', 'The number of random trials must be a whole number of 1 or more.');
    else if (samples > MAX_GRID_TRIALS) errors.set('samples', `At most ${MAX_GRID_TRIALS} trials.`);
    if (seedText.trim() !== '') {
      seed = Number(seedText.trim());
      if (!Number.isInteger(seed)) errors.set('seed', 'The seed must be a whole number (or left empty).');
    }
  }
  const trials = mode === 'grid' ? trialCount(sizes) : (samples ?? 0);
  if (mode === 'grid' && errors.size === 0 && trials > MAX_GRID_TRIALS)
    errors.set('', `This grid makes ${trials} trials; at most ${MAX_GRID_TRIALS}. Fewer values, or random mode.`);
  if (errors.size > 0) return { ok: false, errors };
  const request: StartSweepRequest = {
    pipeline,
    ref,
    parameters,
    mode,
    ...(mode === 'random' ? { samples } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  return { ok: true, plan: { request, trials } };
}

/** Grid trials: every combination, so the product of the value counts. */
export function trialCount(valueCounts: readonly number[]): number {
  return valueCounts.length === 0 ? 0 : valueCounts.reduce((a, b) => a * b, 1);
}
