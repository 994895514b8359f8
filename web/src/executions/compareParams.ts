// What differs between compared executions, for the trials table and the
// parallel coordinates of ExecutionsList's comparison (pure; no fetching).
// Each execution's parameters are the effective attributes of its pipeline's
// operations at its commit (when that tree could be read) with its
// overrides on top, keyed "<operation name>.<attribute>" as a sweep's trials
// are; only keys whose values are not the same in every execution are kept.
// Final metrics are the last logged value of each (job, metric).
import type { AttributeOverrides, Execution } from '@kiln/client';
import type { Guid, JsonValue } from '../model';
import type { TrialRow } from '../sweeps/trials';
import { metricValue, type RunMetrics } from './compare';

/** One operation's attributes as the pipeline gives them at a commit. */
export interface PipelineAttribute {
  readonly node: Guid;
  readonly nodeName: string;
  readonly attribute: string;
  readonly value: JsonValue;
}

/**
 * The parameters one execution ran with: the tree's attributes (if known),
 * replaced by its overrides. An override of an instance the tree does not
 * name is keyed by a short guid (the operation was renamed or removed since).
 */
export function executionParameters(
  overrides: AttributeOverrides | undefined,
  attributes: readonly PipelineAttribute[] | null,
  names: ReadonlyMap<Guid, string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attributes ?? []) out[`${a.nodeName}.${a.attribute}`] = a.value;
  for (const [node, attrs] of Object.entries(overrides ?? {})) {
    const name = names.get(node) ?? node.slice(0, 8);
    for (const [attr, value] of Object.entries(attrs)) out[`${name}.${attr}`] = value;
  }
  return out;
}

/** Keeps the keys whose values are not equal in every map (a key some lack differs too). */
export function differing(perExecution: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const keys = new Set(perExecution.flatMap((p) => Object.keys(p)));
  const varying = [...keys].filter((k) => {
    const texts = perExecution.map((p) => (Object.hasOwn(p, k) ? JSON.stringify(p[k]) : undefined));
    return texts.some((t) => t !== texts[0]);
  });
  return perExecution.map((p) => Object.fromEntries(varying.filter((k) => Object.hasOwn(p, k)).map((k) => [k, p[k]])));
}

/** The last finite value of every metric of every job: "<job>.<metric>" → value. */
export function finalMetrics(run: RunMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { job, metrics } of run.jobs)
    for (const [metric, points] of Object.entries(metrics)) {
      let lastStep = -Infinity;
      for (const [step, value] of points) {
        const v = metricValue(value);
        if (v !== null && typeof step === 'number' && step >= lastStep) {
          lastStep = step;
          out[`${job}.${metric}`] = v;
        }
      }
    }
  return out;
}

/** Rows for TrialsPanel, in the order the executions were given. */
export function compareRows(
  executions: readonly Execution[],
  runs: readonly RunMetrics[],
  parameters: readonly Record<string, unknown>[],
): TrialRow[] {
  const params = differing(parameters);
  return executions.map((e, i) => ({
    execution: e.id,
    label: e.id.slice(0, 8),
    state: e.state,
    params: params[i] ?? {},
    metrics: runs.find((r) => r.execution === e.id) ? finalMetrics(runs.find((r) => r.execution === e.id)!) : {},
  }));
}
