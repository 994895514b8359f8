// One sweep, live: its parameters, the trials' table and parallel-coordinates
// plot (TrialsPanel) and every trial's metric curves on shared charts (the
// executions' CompareMetrics). GET /sweeps/{id} is polled every 2 s while the
// sweep runs; the curves reload each time another trial ends.
import { useEffect, useMemo, useState } from 'react';
import type { Execution, KilnClient, SweepDetail } from '@kiln/client';
import { CompareMetrics } from '../executions/CompareMetrics';
import { navigate, projectHref } from '../router';
import { dateTime, describeError, shortId, timeAgo } from '../ui/format';
import { TrialsPanel } from './TrialsPanel';
import { sweepRows } from './trials';
import './sweeps.css';

const POLL_MS = 2000;

type Load = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; sweep: SweepDetail };

export function SweepView({ client, project, branch, id }: { client: KilnClient; project: string; branch: string; id: string }) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [tick, setTick] = useState(0);
  const [cancelling, setCancelling] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    client.sweep(id, abort.signal).then(
      (sweep) => setLoad({ kind: 'ready', sweep }),
      (e: unknown) => !abort.signal.aborted && setLoad((l) => (l.kind === 'ready' ? l : { kind: 'error', message: describeError(e) })),
    );
    return () => abort.abort();
  }, [client, id, tick]);
  const running = load.kind === 'ready' && load.sweep.state === 'running';
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => setTick((n) => n + 1), POLL_MS);
    return () => clearTimeout(t);
  }, [running, tick]);

  const sweep = load.kind === 'ready' ? load.sweep : null;
  const rows = useMemo(() => (sweep ? sweepRows(sweep) : []), [sweep]);
  const ended = rows.filter((r) => r.state !== 'running' && r.state !== 'pending' && r.state !== 'queued').length;
  // CompareMetrics reads only the ids; the rest is for the type.
  const executions: Execution[] = useMemo(
    () =>
      sweep
        ? rows.map((r) => ({
            id: r.execution,
            project,
            pipeline: sweep.pipeline,
            commit: sweep.commit,
            ref: sweep.ref,
            state: r.state,
            created_ms: sweep.created_ms,
          }))
        : [],
    [rows, sweep, project],
  );
  const executionHref = (e: string) => projectHref(project, { kind: 'execution', id: e }, { branch });

  if (load.kind === 'loading') return <p className="state">Loading sweep…</p>;
  if (load.kind === 'error')
    return (
      <div className="state error" role="alert">
        Could not load sweep {id}: {load.message}
      </div>
    );
  const s = load.sweep;
  const cancel = async () => {
    setCancelling(true);
    try {
      await client.cancelSweep(s.id);
      setTick((n) => n + 1);
    } catch (e) {
      setLoad({ kind: 'error', message: `Could not cancel: ${describeError(e)}` });
    } finally {
      setCancelling(false);
    }
  };
  return (
    <div className="page-pane sweep-view" data-testid="sweep-view">
      <div className="pane-head">
        <h2>
          Sweep <span className="mono">{shortId(s.id)}</span> of{' '}
          <a href={projectHref(project, { kind: 'pipeline', guid: s.pipeline }, { branch })}>{s.pipeline_name ?? shortId(s.pipeline)}</a>
        </h2>
        <span className={`status-pill ${s.state}`} data-testid="sweep-state">
          {s.state}
        </span>
        {s.state === 'running' && (
          <button type="button" className="secondary" onClick={cancel} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      <p className="muted small">
        {s.mode === 'grid' ? 'Grid' : 'Random'} · {rows.length} trials, {ended} ended · {s.ref} at <span className="mono">{shortId(s.commit)}</span>
        {s.user ? ` · by ${s.user}` : ''} · <span title={dateTime(s.created_ms)}>{timeAgo(s.created_ms)}</span>
      </p>
      <ul className="sweep-parameters">
        {s.parameters.map((p) => (
          <li key={`${p.node}.${p.attribute}`}>
            <span className="mono">
              {p.node_name ?? shortId(p.node)}.{p.attribute}
            </span>
            {': '}
            {p.values
              ? p.values.map((v) => JSON.stringify(v)).join(', ')
              : p.range
                ? `${p.range.min} … ${p.range.max}${p.range.steps ? `, ${p.range.steps} steps` : ''}${p.range.log ? ', log' : ''}${p.range.integer ? ', integer' : ''}`
                : ''}
          </li>
        ))}
      </ul>
      <TrialsPanel rows={rows} executionHref={executionHref} onOpen={(e) => navigate(executionHref(e))} />
      {executions.length > 0 && <CompareMetrics key={ended} client={client} executions={executions} />}
    </div>
  );
}
