// Two versions of an architecture compared layer by layer (History's
// "Compare"): which layers were added, removed or changed (parameters,
// type, name), with the change of each one's output shape and parameter
// count from the two analyses, and the change of the totals. Layers are
// matched by id (the node's guid), so a renamed layer is "changed", not
// removed and added. Pure.
import { jsonEqual, type JsonValue } from '../model';
import { formatShape, type Analysis } from './analysis';
import { formatValue } from './params';
import type { DocArchitecture } from './toDocument';

export interface LayerChange {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly kind: 'added' | 'removed' | 'changed';
  /** "kernel_size 3 → 5", "renamed from conv", "type Conv2d → Conv1d". */
  readonly details: readonly string[];
  readonly shapeBefore: string;
  readonly shapeAfter: string;
  /** After minus before; undefined when neither analysis counted it. */
  readonly parametersDelta: number | undefined;
}

export interface ArchitectureDiff {
  readonly changes: readonly LayerChange[];
  readonly parametersBefore: number | undefined;
  readonly parametersAfter: number | undefined;
}

function outputShape(a: Analysis | null, id: string): string {
  return Object.values(a?.nodes[id]?.outputs ?? {})
    .map(formatShape)
    .join(' · ');
}

function params(a: Analysis | null, id: string): number | undefined {
  return a?.nodes[id]?.parameters;
}

function delta(before: number | undefined, after: number | undefined): number | undefined {
  if (before === undefined && after === undefined) return undefined;
  return (after ?? 0) - (before ?? 0);
}

function show(v: JsonValue | undefined): string {
  return v === undefined ? 'default' : formatValue(v);
}

export function diffArchitecture(
  before: DocArchitecture | undefined,
  beforeAnalysis: Analysis | null,
  after: DocArchitecture | undefined,
  afterAnalysis: Analysis | null,
): ArchitectureDiff {
  const old = new Map((before?.nodes ?? []).map((n) => [n.id, n]));
  const now = new Map((after?.nodes ?? []).map((n) => [n.id, n]));
  const changes: LayerChange[] = [];
  const edgesInto = (arch: DocArchitecture | undefined, id: string) =>
    (arch?.edges ?? [])
      .filter(([, to]) => to.split('.')[0] === id)
      .map(([from, to]) => `${from}>${to}`)
      .sort()
      .join(',');
  for (const n of after?.nodes ?? []) {
    const o = old.get(n.id);
    const common = {
      id: n.id,
      name: n.name ?? n.id,
      type: n.type,
      shapeBefore: o ? outputShape(beforeAnalysis, n.id) : '',
      shapeAfter: outputShape(afterAnalysis, n.id),
      parametersDelta: delta(o ? params(beforeAnalysis, n.id) : undefined, params(afterAnalysis, n.id)),
    };
    if (!o) {
      changes.push({ ...common, kind: 'added', details: [] });
      continue;
    }
    const details: string[] = [];
    if (o.type !== n.type) details.push(`type ${o.type} → ${n.type}`);
    if ((o.name ?? o.id) !== (n.name ?? n.id)) details.push(`renamed from ${o.name ?? o.id}`);
    const keys = [...new Set([...Object.keys(o.params ?? {}), ...Object.keys(n.params ?? {})])].sort();
    for (const k of keys) {
      const a = o.params?.[k];
      const b = n.params?.[k];
      if (a === undefined ? b !== undefined : b === undefined || !jsonEqual(a, b)) details.push(`${k} ${show(a)} → ${show(b)}`);
    }
    if (edgesInto(before, n.id) !== edgesInto(after, n.id)) details.push('inputs rewired');
    const shapeChanged = common.shapeBefore !== common.shapeAfter;
    if (details.length > 0 || shapeChanged || (common.parametersDelta ?? 0) !== 0) changes.push({ ...common, kind: 'changed', details });
  }
  for (const o of before?.nodes ?? []) {
    if (now.has(o.id)) continue;
    changes.push({
      id: o.id,
      name: o.name ?? o.id,
      type: o.type,
      kind: 'removed',
      details: [],
      shapeBefore: outputShape(beforeAnalysis, o.id),
      shapeAfter: '',
      parametersDelta: delta(params(beforeAnalysis, o.id), undefined),
    });
  }
  return {
    changes,
    parametersBefore: beforeAnalysis?.totals?.parameters,
    parametersAfter: afterAnalysis?.totals?.parameters,
  };
}

/** "+1,234" / "−56" / "±0". */
export function formatDelta(d: number | undefined): string {
  if (d === undefined) return '';
  if (d === 0) return '±0';
  return `${d > 0 ? '+' : '−'}${Math.abs(d).toLocaleString('en-US')}`;
}
