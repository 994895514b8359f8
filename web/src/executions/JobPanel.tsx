// One job of an execution: state and timings, progress, and tabs with the
// streaming console, live metric charts, figures and the outputs (small JSON
// ones shown as their value, any one previewed in place, every one downloadable).
// Where it ran (backend, node, Slurm job id) is under its timings.
// Events come from the REST endpoint first, then live from the WebSocket
// ("events" pushed to `live`), with polling as a fallback while it runs.
import { Fragment, useEffect, useMemo, useState } from 'react';
import type { Backend, Job, JobEvent, KilnClient, MetricSeries } from '@kiln/client';
import { InlineValue } from '../artifacts/InlineValue';
import { showsInline } from '../artifacts/value';
import { Preview } from '../preview/Preview';
import { describeError, duration, formatSize } from '../ui/format';
import { Console } from './Console';
import { lastSeq, latestFigures, latestProgress, logLines, mergeEvents, metricSeries, isJobFinished } from './events';
import { FigureView } from './FigureView';
import { MetricCharts } from './MetricChart';
import { LineageLink } from '../provenance/LineageLink';
import { JobWhere } from './JobWhere';

type Tab = 'console' | 'metrics' | 'figures' | 'outputs';

export function JobPanel({
  client,
  project,
  job,
  backends = null,
  live,
  onClose,
}: {
  client: KilnClient;
  /** The execution's project: previews of the outputs are asked of it. */
  project: string;
  job: Job;
  /** The server's backends, for the kind of the one it ran on (null: not known). */
  backends?: readonly Backend[] | null;
  /** Events pushed over the WebSocket for this job. */
  live: readonly JobEvent[];
  onClose: () => void;
}) {
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [initialMetrics, setInitialMetrics] = useState<MetricSeries>({});
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('console');
  /** The output whose preview row is open. */
  const [previewing, setPreviewing] = useState<string | null>(null);
  const finished = isJobFinished(job);

  // First page of events and the metric series so far.
  useEffect(() => {
    const abort = new AbortController();
    setEvents([]);
    setInitialMetrics({});
    setError(null);
    Promise.all([allEvents(client, job.id, abort.signal), client.jobMetrics(job.id, abort.signal)]).then(
      ([evs, metrics]) => {
        // The metric events are already in `metrics`; keep the others.
        setEvents((cur) => mergeEvents(evs, cur));
        setInitialMetrics(metrics);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setError(describeError(e));
      },
    );
    return () => abort.abort();
  }, [client, job.id]);

  useEffect(() => {
    if (live.length > 0) setEvents((cur) => mergeEvents(cur, live));
  }, [live]);

  // Polling fallback while the job runs (and once more when it ends).
  const lastSeqRef = useLatest(lastSeq(events));
  useEffect(() => {
    let stop = false;
    const abort = new AbortController();
    const tick = async () => {
      try {
        const after = lastSeqRef.current;
        const evs = await client.jobEvents(job.id, { after }, abort.signal);
        if (!stop && evs.length > 0) setEvents((cur) => mergeEvents(cur, evs));
      } catch {
        /* the next tick tries again; the first load shows errors */
      }
    };
    const t = finished ? null : setInterval(() => void tick(), 1500);
    if (finished) void tick();
    return () => {
      stop = true;
      abort.abort();
      if (t) clearInterval(t);
    };
  }, [client, job.id, finished]);

  const lines = useMemo(() => logLines(events), [events]);
  // Metric events already counted in the initial series are merged by step, so no double points.
  const series = useMemo(() => metricSeries(initialMetrics, events), [initialMetrics, events]);
  const progress = useMemo(() => latestProgress(events), [events]);
  const figures = useMemo(() => latestFigures(events), [events]);
  const outputs = Object.entries(job.outputs ?? {});

  const pct = progress && progress.total ? Math.min(100, (100 * progress.done) / progress.total) : null;
  const started = job.started_ms || 0;
  const ended = job.finished_ms || 0;

  return (
    <aside className="job-panel" aria-label={`Job ${job.name}`} data-testid="job-panel">
      <div className="job-head">
        <div className="job-title">
          <strong>{job.name}</strong>
          <span className={`status-pill ${job.state}`} data-testid="job-state">
            {job.state}
          </span>
        </div>
        <button type="button" className="ghost icon" onClick={onClose} aria-label="Close the job panel">
          ×
        </button>
      </div>
      <dl className="timings">
        <dt>Queued</dt>
        <dd>{job.queued_ms ? new Date(job.queued_ms).toLocaleTimeString() : '–'}</dd>
        <dt>Waited</dt>
        <dd>{job.queued_ms && started ? duration(started - job.queued_ms) : '–'}</dd>
        <dt>Ran</dt>
        <dd>{started ? duration((ended || Date.now()) - started) : '–'}</dd>
        <dt>Exit</dt>
        <dd>{job.exit_code ?? '–'}</dd>
      </dl>
      <JobWhere job={job} backends={backends} />
      {job.reason && <p className="job-reason">{job.reason}</p>}
      {(progress || job.state === 'running') && (
        <div className="progress" role="progressbar" aria-valuenow={pct ?? undefined} aria-valuemin={0} aria-valuemax={100}>
          <div className={`progress-bar ${pct === null ? 'indeterminate' : ''}`} style={pct === null ? undefined : { width: `${pct}%` }} />
          <span className="progress-text">
            {progress ? (progress.total ? `${progress.done} / ${progress.total}` : `${progress.done}`) : 'running'}
          </span>
        </div>
      )}
      <div className="tabs" role="tablist">
        {(
          [
            ['console', `Console${lines.length ? ` (${lines.length})` : ''}`],
            ['metrics', `Metrics${series.size ? ` (${series.size})` : ''}`],
            ['figures', `Figures${figures.length ? ` (${figures.length})` : ''}`],
            ['outputs', `Outputs${outputs.length ? ` (${outputs.length})` : ''}`],
          ] as const
        ).map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={`tab ${tab === t ? 'active' : ''}`}
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="tab-body">
        {error && (
          <p className="form-error" role="alert">
            Could not load this job's events: {error}
          </p>
        )}
        {tab === 'console' && (
          <Console lines={lines} waiting={finished ? 'This job printed nothing.' : 'Waiting for output…'} />
        )}
        {tab === 'metrics' && <MetricCharts series={series} />}
        {tab === 'figures' && (
          <div className="figures">
            {figures.length === 0 && <p className="muted small pad">No figures. Plots made with matplotlib appear here.</p>}
            {figures.map((f) => (
              <FigureView key={f.figure} figure={f} />
            ))}
          </div>
        )}
        {tab === 'outputs' && (
          <div className="outputs">
            {outputs.length === 0 && <p className="muted small pad">{finished ? 'No outputs.' : 'Outputs appear when the job ends.'}</p>}
            {outputs.length > 0 && (
              <table className="table compact">
                <tbody>
                  {outputs.map(([name, o]) => (
                    <Fragment key={name}>
                      <tr data-testid={`output-${name}`}>
                        <td className="mono">{name}</td>
                        <td className="output-value" data-testid="output-value">
                          {showsInline(o) ? (
                            <InlineValue url={client.artifactUrl(o.digest)} headers={client.extraHeaders} max={48} />
                          ) : null}
                        </td>
                        <td className="muted">{o.serializer ?? ''}</td>
                        <td className="muted">{formatSize(o.size)}</td>
                        <td className="row-actions">
                          <button
                            type="button"
                            className="link small"
                            onClick={() => setPreviewing(previewing === name ? null : name)}
                            aria-expanded={previewing === name}
                            data-testid="preview-output"
                          >
                            {previewing === name ? 'Hide' : 'Preview'}
                          </button>{' '}
                          <a href={client.artifactUrl(o.digest, undefined, undefined, name)} download={name} title={o.digest}>
                            Download
                          </a>
                        </td>
                        <td>
                          <LineageLink digest={o.digest} />
                        </td>
                      </tr>
                      {previewing === name && (
                        <tr className="output-preview-row">
                          <td colSpan={6}>
                            <Preview client={client} project={project} digest={o.digest} serializer={o.serializer} name={name} />
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        )}
      </div>
    </aside>
  );
}

/** Every event so far, page by page (the server returns at most 10,000 at once). */
async function allEvents(client: KilnClient, job: string, signal: AbortSignal): Promise<JobEvent[]> {
  const PAGE = 5000;
  let all: JobEvent[] = [];
  for (let after = 0; ; ) {
    const page = await client.jobEvents(job, { after, limit: PAGE }, signal);
    all = mergeEvents(all, page);
    if (page.length < PAGE) return all;
    after = lastSeq(all);
  }
}

function useLatest<T>(value: T): { readonly current: T } {
  const [ref] = useState(() => ({ current: value }));
  ref.current = value;
  return ref;
}
