// One execution, live: the pipeline's DAG at the commit it ran, each operation
// coloured by its job's state; click one for its job panel (console, metrics,
// figures, outputs). Cancel and re-run. Where it ran (backend, per job the
// node and Slurm job id: placement.ts) is in the header and the job list.
// Updates arrive over the WebSocket ("watch"), with polling as a fallback.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, type Backend, type ExecutionDetail, type JobEvent, type KilnClient } from '@kiln/client';
import { useBackends } from '../compute/useBackends';
import '../compute/compute.css';
import type { Guid, Tree } from '../model';
import { nameOf } from '../pipeline/model';
import { PipelineEditor } from '../pipeline/PipelineEditor';
import { navigate, projectHref } from '../router';
import type { SyncSession } from '../sync';
import { dateTime, describeError, duration, shortId } from '../ui/format';
import { executionSummary, isExecutionFinished, mergeEvents, mergeExecutionDetail, mergeExecutionRecord, upsertJob } from './events';
import { JobPanel } from './JobPanel';
import { executionPlacement, jobPlacement } from './placement';
import '../sweeps/sweeps.css';
import { NO_EXECUTIONS } from './RunButton';

export default function ExecutionView({
  client,
  project,
  branch,
  id,
  session,
  notify,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  id: string;
  session: SyncSession;
  notify: (kind: 'error' | 'info', text: string) => void;
}) {
  const [exec, setExec] = useState<ExecutionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tree, setTree] = useState<Tree | null>(null);
  const [selected, setSelected] = useState<Guid | null>(null);
  // Whether a job's panel was opened for the user already (below).
  const [autoPicked, setAutoPicked] = useState(false);
  const [live, setLive] = useState<Map<string, JobEvent[]>>(new Map());
  const [busy, setBusy] = useState(false);
  const [, setNow] = useState(0);
  // For the kind of each job's backend ("Slurm job 1234").
  const backends = useBackends(client);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const e = await client.getExecution(id, signal);
        // Merged by progress: an answer read before pushes already applied
        // must not move a job back (events.ts, "one ordered view").
        setExec((cur) => mergeExecutionDetail(cur, e));
        setError(null);
        return e;
      } catch (e) {
        if (signal?.aborted) return null;
        setError(
          e instanceof ApiError && e.isNotFound
            ? `This execution could not be found. ${NO_EXECUTIONS.replace('answered', 'may have answered')}`
            : describeError(e),
        );
        return null;
      }
    },
    [client, id],
  );

  useEffect(() => {
    const abort = new AbortController();
    setExec(null);
    setTree(null);
    setSelected(null);
    setAutoPicked(false);
    setLive(new Map());
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  // The tree at the commit it ran.
  const commit = exec?.commit;
  useEffect(() => {
    if (!commit) return;
    const abort = new AbortController();
    client.getTree(project, commit, abort.signal).then(
      (r) => setTree(r.tree),
      (e: unknown) => {
        if (!abort.signal.aborted) setError(`Could not read the pipeline at ${shortId(commit)}: ${describeError(e)}`);
      },
    );
    return () => abort.abort();
  }, [client, project, commit]);

  // Live updates.
  useEffect(
    () =>
      session.watchExecution(id, {
        execution: (e) => {
          setExec((cur) => (cur ? mergeExecutionRecord(cur, e) : cur));
          // Its end: read the jobs once more, so that each shows its end too.
          if (isExecutionFinished(e)) void load();
        },
        job: (j) => setExec((cur) => (cur ? upsertJob(cur, j) : cur)),
        events: (job, evs) =>
          setLive((cur) => {
            const next = new Map(cur);
            next.set(job, mergeEvents(cur.get(job) ?? [], evs));
            return next;
          }),
        resync: () => void load(),
      }),
    [session, id, load],
  );

  // Polling fallback until the execution and every job have ended; a clock
  // for the running durations.
  const view = exec ? executionSummary(exec) : null;
  const running = view !== null && !view.settled;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => {
      void load();
      setNow((n) => n + 1);
    }, 2000);
    return () => clearInterval(t);
  }, [running, load]);

  // Open the running (or first failed) job's panel by default, once: a panel
  // the user closes stays closed (the job list shows instead).
  useEffect(() => {
    if (!exec || selected || autoPicked) return;
    const pick = exec.jobs.find((j) => j.state === 'running') ?? exec.jobs.find((j) => j.state === 'failed');
    if (pick) {
      setSelected(pick.node);
      setAutoPicked(true);
    }
  }, [exec, selected, autoPicked]);

  const statuses = useMemo(() => new Map((exec?.jobs ?? []).map((j) => [j.node, j.state])), [exec]);
  const job = exec?.jobs.find((j) => j.node === selected) ?? null;

  const cancel = async () => {
    setBusy(true);
    try {
      await client.cancelExecution(id);
      notify('info', 'Cancelling the execution…');
      await load();
    } catch (e) {
      notify('error', `Could not cancel: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const rerun = async (force: boolean) => {
    setBusy(true);
    try {
      const r = await client.rerunExecution(id, force);
      navigate(projectHref(project, { kind: 'execution', id: r.id }, { branch }));
    } catch (e) {
      notify('error', `Could not re-run: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };

  if (error && !exec)
    return (
      <div className="state error centered" role="alert" data-testid="execution-error">
        {error}
        <div>
          <a href={projectHref(project, { kind: 'executions' }, { branch })}>All executions</a>
        </div>
      </div>
    );
  if (!exec || !tree)
    return (
      <div className="state centered loading" role="status">
        <span className="spinner" aria-hidden="true" /> Loading execution…
      </div>
    );

  // The header and the nodes read the same merged jobs (executionSummary).
  const { state: shownState, done, total } = executionSummary(exec);
  const where = executionPlacement(exec);
  const summary = (
    <div className="exec-summary">
      <span className={`status-pill ${shownState}`} data-testid="execution-state">
        {shownState}
      </span>
      <span className="muted small" title={`Commit ${exec.commit}, started ${dateTime(exec.created_ms)}`}>
        {done}/{total} jobs done · {duration((exec.finished_ms || Date.now()) - exec.created_ms)}
      </span>
      {where.label && (
        <span className="muted small" title={where.title} data-testid="execution-backend">
          {where.label}
        </span>
      )}
      {typeof exec.sweep === 'string' && exec.sweep !== '' && (
        <a className="sweep-mark" href={projectHref(project, { kind: 'sweep', id: exec.sweep }, { branch })} data-testid="execution-of-sweep">
          {typeof exec.sweep_trial === 'number' ? `trial #${exec.sweep_trial + 1} of a sweep` : 'a trial of a sweep'}
        </a>
      )}
      {exec.overrides && Object.keys(exec.overrides).length > 0 && (
        <span className="muted small" data-testid="execution-overrides" title="Attribute values this execution ran with instead of the pipeline's">
          with{' '}
          {Object.entries(exec.overrides)
            .flatMap(([node, attrs]) =>
              Object.entries(attrs).map(([a, v]) => `${tree?.nodes[node] ? nameOf(tree, node) : shortId(node)}.${a} = ${JSON.stringify(v)}`),
            )
            .join(', ')}
        </span>
      )}
      {running ? (
        <button type="button" className="secondary small" onClick={() => void cancel()} disabled={busy}>
          Cancel
        </button>
      ) : (
        <>
          <button type="button" className="secondary small" onClick={() => void rerun(false)} disabled={busy}>
            Re-run
          </button>
          <button
            type="button"
            className="ghost small"
            onClick={() => void rerun(true)}
            disabled={busy}
            title="Run every job again, ignoring cached results"
          >
            Re-run all
          </button>
        </>
      )}
    </div>
  );

  return (
    <div className="execution-view">
      {exec.reason && <div className="exec-reason">{exec.reason}</div>}
      {tree.nodes[exec.pipeline] ? (
        <PipelineEditor
          tree={tree}
          pipeline={exec.pipeline}
          editing={null}
          statuses={statuses}
          toolbar={summary}
          onSelectNode={(n) => n && setSelected(n)}
          side={
            job ? (
              <JobPanel
                client={client}
                project={project}
                job={job}
                backends={backends}
                live={live.get(job.id) ?? []}
                onClose={() => setSelected(null)}
              />
            ) : (
              <JobList exec={exec} backends={backends} onPick={setSelected} />
            )
          }
        />
      ) : (
        <div className="state centered">The executed pipeline is not in the project at {shortId(exec.commit)}.</div>
      )}
    </div>
  );
}

function JobList({
  exec,
  backends,
  onPick,
}: {
  exec: ExecutionDetail;
  backends: readonly Backend[] | null;
  onPick: (node: Guid) => void;
}) {
  return (
    <aside className="job-panel" aria-label="Jobs">
      <div className="panel-title">Jobs</div>
      <ul className="job-list">
        {exec.jobs.map((j) => {
          const at = jobPlacement(j, backends);
          return (
            <li key={j.id}>
              <button type="button" className="job-row" onClick={() => onPick(j.node)} title={at?.long}>
                <span className="job-name">
                  {j.name}
                  {at && (
                    <small className="placement job-row-where" data-testid="job-placement">
                      {at.short}
                    </small>
                  )}
                </span>
                <span className={`status-pill ${j.state}`}>{j.state}</span>
                <span className="muted small">
                  {j.started_ms ? duration((j.finished_ms || Date.now()) - j.started_ms) : ''}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      <p className="muted small pad">Select an operation to see its console, metrics, figures and outputs.</p>
    </aside>
  );
}
