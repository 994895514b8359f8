// The comparison of ticked executions of one pipeline (ExecutionsList): the
// trials table and parallel coordinates over what differs between them
// (their overrides, and the attributes of the pipeline at each one's commit:
// one tree read per distinct commit) and their final metrics, then every
// metric's curves on shared charts (CompareMetrics, given the same data).
import { useEffect, useState } from 'react';
import type { Execution, KilnClient } from '@kiln/client';
import type { Guid, Tree } from '../model';
import { navigate, projectHref } from '../router';
import { TrialsPanel } from '../sweeps/TrialsPanel';
import { sweepableAttributes } from '../sweeps/parameters';
import type { TrialRow } from '../sweeps/trials';
import { describeError } from '../ui/format';
import type { RunMetrics } from './compare';
import { compareRows, executionParameters, type PipelineAttribute } from './compareParams';
import { CompareMetrics, fetchRuns } from './CompareMetrics';

type Load = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; runs: RunMetrics[]; rows: TrialRow[] };

async function load(client: KilnClient, project: string, executions: readonly Execution[], signal: AbortSignal) {
  const commits = [...new Set(executions.map((e) => e.commit))];
  // A tree that cannot be read (deleted commit, no access) leaves only the overrides.
  const [runs, trees] = await Promise.all([
    fetchRuns(client, executions, signal),
    Promise.all(commits.map((c) => client.getTree(project, c, signal).then((r) => r.tree as Tree, () => null))),
  ]);
  const byCommit = new Map(commits.map((c, i) => [c, trees[i] ?? null]));
  const names = new Map<Guid, string>();
  const attributesAt = new Map<string, PipelineAttribute[] | null>();
  for (const e of executions) {
    const tree = byCommit.get(e.commit) ?? null;
    if (!attributesAt.has(e.commit)) attributesAt.set(e.commit, tree ? sweepableAttributes(tree, e.pipeline) : null);
    for (const a of attributesAt.get(e.commit) ?? []) names.set(a.node, a.nodeName);
  }
  const params = executions.map((e) => executionParameters(e.overrides, attributesAt.get(e.commit) ?? null, names));
  return { runs, rows: compareRows(executions, runs, params) };
}

export function CompareExecutions({
  client,
  project,
  branch,
  executions,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  executions: readonly Execution[];
}) {
  const [state, setState] = useState<Load>({ kind: 'loading' });
  const ids = executions.map((e) => `${e.id}:${e.state}`).join(',');
  useEffect(() => {
    const abort = new AbortController();
    setState({ kind: 'loading' });
    load(client, project, executions, abort.signal).then(
      (r) => !abort.signal.aborted && setState({ kind: 'ready', ...r }),
      (e: unknown) => !abort.signal.aborted && setState({ kind: 'error', message: describeError(e) }),
    );
    return () => abort.abort();
    // The ids (and states) say everything about the selection.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, project, ids]);
  const executionHref = (id: string) => projectHref(project, { kind: 'execution', id }, { branch });
  if (state.kind === 'loading') return <p className="muted small">Loading the executions' parameters and metrics…</p>;
  if (state.kind === 'error')
    return (
      <p className="state error" role="alert">
        Could not load the executions to compare: {state.message}
      </p>
    );
  return (
    <section className="compare-executions" data-testid="compare-executions" aria-label="Compared executions">
      <h3>{executions.length} executions side by side</h3>
      {state.rows.every((r) => Object.keys(r.params).length === 0) && (
        <p className="muted small">These executions ran with the same attribute values.</p>
      )}
      <TrialsPanel rows={state.rows} executionHref={executionHref} onOpen={(id) => navigate(executionHref(id))} />
      <CompareMetrics client={client} executions={executions} runs={state.runs} />
    </section>
  );
}
