// The list of a project's executions (newest first), refreshed while any runs,
// with the project's sweeps above it (an execution that is a sweep's trial
// links to its sweep; one run on a named backend says which, docs/compute.md).
// Ticking executions of one pipeline compares them
// (CompareExecutions: what differs, final metrics, parallel coordinates, and
// one chart per metric with one series per execution).
import { useEffect, useState } from 'react';
import { ApiError, type Execution, type KilnClient, type Sweep } from '@kiln/client';
import { projectHref } from '../router';
import { dateTime, describeError, duration, shortId, timeAgo } from '../ui/format';
import { canSelect } from './compare';
import { CompareExecutions } from './CompareExecutions';
import { NO_EXECUTIONS } from './RunButton';

type Load =
  | { kind: 'loading' }
  | { kind: 'unavailable' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; executions: readonly Execution[] };

export function ExecutionsList({
  client,
  project,
  branch,
  pipelineNames,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  /** Names of the pipelines in the branch's current model, by guid (absent while it loads). */
  pipelineNames?: ReadonlyMap<string, string>;
}) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [tick, setTick] = useState(0);
  const [picked, setPicked] = useState<readonly string[]>([]);
  // The project's sweeps; empty on a server without them (404) or when they cannot be read.
  const [sweeps, setSweeps] = useState<readonly Sweep[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    client.listSweeps(project, abort.signal).then(setSweeps, () => undefined);
    client.listExecutions(project, abort.signal).then(
      (executions) => setLoad({ kind: 'ready', executions }),
      (e: unknown) => {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.isNotFound) setLoad({ kind: 'unavailable' });
        else setLoad({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, tick]);
  const running =
    (load.kind === 'ready' && load.executions.some((e) => e.state === 'running')) || sweeps.some((s) => s.state === 'running');
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setTick((n) => n + 1), 3000);
    return () => clearInterval(t);
  }, [running]);

  const all = load.kind === 'ready' ? load.executions : [];
  // Only servers with several backends name one; the column is there when any run did.
  const showBackend = all.some((e) => typeof e.backend === 'string' && e.backend !== '');
  // In the order ticked; executions that left the list drop out.
  const chosen = picked.map((id) => all.find((e) => e.id === id)).filter((e): e is Execution => e !== undefined);
  const toggle = (e: Execution) =>
    setPicked((p) => (p.includes(e.id) ? p.filter((id) => id !== e.id) : canSelect(chosen, e) ? [...p, e.id] : p));

  return (
    <div className="page-pane">
      <div className="pane-head">
        <h2>Executions</h2>
        <button type="button" className="secondary" onClick={() => setTick((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {sweeps.length > 0 && <SweepsTable project={project} branch={branch} sweeps={sweeps} pipelineNames={pipelineNames} />}
      {load.kind === 'loading' && <p className="state">Loading executions…</p>}
      {load.kind === 'unavailable' && (
        <div className="state" role="status" data-testid="executions-unavailable">
          {NO_EXECUTIONS} The editor works as usual; runs will show up here once the server supports them.
        </div>
      )}
      {load.kind === 'error' && (
        <div className="state error" role="alert">
          Could not load executions: {load.message}
        </div>
      )}
      {load.kind === 'ready' && load.executions.length === 0 && (
        <div className="state empty">No executions yet. Open a pipeline and press Run.</div>
      )}
      {load.kind === 'ready' && load.executions.length > 0 && (
        <table className="table" data-testid="executions">
          <thead>
            <tr>
              <th className="executions-pick" aria-label="Compare" />
              <th>State</th>
              <th>Pipeline</th>
              <th>Execution</th>
              {showBackend && <th title="The backend the run asked for (blank: the server's default)">Backend</th>}
              <th>Ref</th>
              <th>Commit</th>
              <th>By</th>
              <th>Started</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {load.executions.map((e) => (
              <tr key={e.id}>
                <td className="executions-pick">
                  <input
                    type="checkbox"
                    aria-label={`Compare ${shortId(e.id)}`}
                    data-testid="compare-pick"
                    checked={picked.includes(e.id)}
                    disabled={!picked.includes(e.id) && !canSelect(chosen, e)}
                    title={
                      !picked.includes(e.id) && !canSelect(chosen, e)
                        ? 'Only executions of the same pipeline can be compared'
                        : 'Compare the metrics of the ticked executions'
                    }
                    onChange={() => toggle(e)}
                  />
                </td>
                <td>
                  <span className={`status-pill ${e.state}`}>{e.state}</span>
                </td>
                <td data-testid="execution-pipeline">
                  {pipelineNames?.has(e.pipeline) ? (
                    <a href={projectHref(project, { kind: 'pipeline', guid: e.pipeline }, { branch })}>{pipelineNames.get(e.pipeline)}</a>
                  ) : (
                    <span className="mono muted" title="Not in the branch's current model (deleted, or from another branch)">
                      {shortId(e.pipeline)}
                    </span>
                  )}
                </td>
                <td>
                  <a href={projectHref(project, { kind: 'execution', id: e.id }, { branch })}>{shortId(e.id)}</a>
                  {typeof e.sweep === 'string' && e.sweep !== '' && (
                    <>
                      {' '}
                      <a
                        className="sweep-mark"
                        href={projectHref(project, { kind: 'sweep', id: e.sweep }, { branch })}
                        title={`A trial of sweep ${e.sweep}`}
                        data-testid="execution-sweep"
                      >
                        sweep {shortId(e.sweep)}
                      </a>
                    </>
                  )}
                </td>
                {showBackend && <td data-testid="execution-backend">{e.backend ?? ''}</td>}
                <td>{e.ref}</td>
                <td className="mono">{shortId(e.commit)}</td>
                <td>{e.user ?? ''}</td>
                <td title={dateTime(e.created_ms)}>{timeAgo(e.created_ms)}</td>
                <td>{e.finished_ms ? duration(e.finished_ms - e.created_ms) : e.state === 'running' ? 'running' : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {load.kind === 'ready' && load.executions.length > 1 && chosen.length < 2 && (
        <p className="muted small">Tick two or more executions of the same pipeline to compare their metrics.</p>
      )}
      {chosen.length >= 2 && <CompareExecutions client={client} project={project} branch={branch} executions={chosen} />}
    </div>
  );
}

function SweepsTable({
  project,
  branch,
  sweeps,
  pipelineNames,
}: {
  project: string;
  branch: string;
  sweeps: readonly Sweep[];
  pipelineNames?: ReadonlyMap<string, string> | undefined;
}) {
  return (
    <>
      <h3 className="sweeps-heading">Sweeps</h3>
      <table className="table" data-testid="sweeps">
        <thead>
          <tr>
            <th>State</th>
            <th>Pipeline</th>
            <th>Sweep</th>
            <th>Parameters</th>
            <th>By</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {sweeps.map((s) => (
            <tr key={s.id} data-testid="sweep-row">
              <td>
                <span className={`status-pill ${s.state}`}>{s.state}</span>
              </td>
              <td>{s.pipeline_name ?? pipelineNames?.get(s.pipeline) ?? shortId(s.pipeline)}</td>
              <td>
                <a href={projectHref(project, { kind: 'sweep', id: s.id }, { branch })}>{shortId(s.id)}</a>
              </td>
              <td className="mono small">
                {s.parameters.map((p) => p.name ?? `${p.node_name ?? shortId(p.node)}.${p.attribute}`).join(', ')} · {s.mode}
                {s.trial_count !== undefined ? ` · ${s.trial_count} trials` : ''}
              </td>
              <td>{s.user ?? ''}</td>
              <td title={dateTime(s.created_ms)}>{timeAgo(s.created_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3 className="sweeps-heading">Executions</h3>
    </>
  );
}
