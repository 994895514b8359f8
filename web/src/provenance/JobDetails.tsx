// One job of a lineage, beside the canvas: the operation as it ran (its code
// read-only in CodeMirror, attribute values, the code of the architectures it
// referenced), its inputs and outputs with where each came from, its runtime
// and timings, whether it was a cache hit (and from which job); the "Run" tab
// is the execution view's JobPanel (console, metrics, figures, outputs).
import { useEffect, useMemo, useState } from 'react';
import type { Job, KilnClient } from '@kiln/client';
import { JobPanel } from '../executions/JobPanel';
import { CodeEditor } from '../operations/CodeEditor';
import { projectHref } from '../router';
import { dateTime, describeError, duration } from '../ui/format';
import { describeOrigin, stableJson } from './compare';
import { artifactTitle, shortDigest } from './graph';
import type { Lineage, LineageJob } from './types';

type Tab = 'operation' | 'run';

export function JobDetails({
  client,
  project,
  branch,
  lineage,
  job,
  onOpenArtifact,
  onClose,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  lineage: Lineage;
  job: LineageJob;
  /** Selects an artifact of the lineage (an input or output). */
  onOpenArtifact: (digest: string) => void;
  onClose: () => void;
}) {
  const [tab, setTab] = useState<Tab>('operation');
  const snap = lineage.operations[job.operation]!;
  const files = useMemo(
    () => Object.entries(snap.resources).flatMap(([r, res]) => Object.entries(res.files).map(([f, code]) => ({ key: `${r}: ${f}`, code }))),
    [snap],
  );
  const [file, setFile] = useState<string>('');
  const code = file ? (files.find((f) => f.key === file)?.code ?? '') : snap.code;
  const artifacts = new Map(lineage.artifacts.map((a) => [a.digest, a]));
  const jobName = (id: string) => lineage.jobs.find((j) => j.id === id)?.name ?? null;
  const execHref = (id: string) => projectHref(project, { kind: 'execution', id }, { branch });
  const artifactRow = (name: string, digest: string) => {
    const a = artifacts.get(digest);
    return (
      <tr key={name}>
        <td className="mono">{name}</td>
        <td>
          <button type="button" className="link small" onClick={() => onOpenArtifact(digest)} title={digest}>
            {a ? artifactTitle(a) : ''} <code>{shortDigest(digest)}</code>
          </button>
        </td>
        <td className="muted small">{a ? describeOrigin(a.origin, jobName) : ''}</td>
      </tr>
    );
  };

  return (
    <aside className="lineage-side job-details" aria-label={`Job ${job.name}`} data-testid="lineage-job">
      <div className="job-head">
        <div className="job-title">
          <strong>{job.name}</strong>
          <span className={`status-pill ${job.state}`}>{job.state}</span>
          {job.cachedFrom && <span className="lineage-badge cached" data-testid="cached-badge">cached</span>}
        </div>
        <button type="button" className="ghost icon" onClick={onClose} aria-label="Close the job details">
          ×
        </button>
      </div>
      <p className="muted small pad-x">
        Job <code>{job.id}</code> of <a href={execHref(job.execution)}>run {job.execution.slice(0, 10)}</a>
        {job.commit && (
          <>
            {' '}
            at commit <code>{job.commit.slice(0, 10)}</code>
          </>
        )}
        {job.cachedFrom &&
          ('otherProject' in job.cachedFrom ? (
            <> · cached from a job of another project</>
          ) : (
            <>
              {' '}
              · cached from{' '}
              {job.cachedFrom.execution ? (
                <a href={execHref(job.cachedFrom.execution)} data-testid="cached-from" title={`job ${job.cachedFrom.job} of run ${job.cachedFrom.execution}`}>
                  {jobName(job.cachedFrom.job) ?? 'job'} {job.cachedFrom.job.slice(0, 10)}
                </a>
              ) : (
                <code data-testid="cached-from">{job.cachedFrom.job.slice(0, 10)}</code>
              )}
            </>
          ))}
      </p>
      <div className="tabs" role="tablist">
        {(
          [
            ['operation', 'Operation'],
            ['run', 'Console, metrics, figures'],
          ] as const
        ).map(([t, label]) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={`tab ${tab === t ? 'active' : ''}`} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </div>
      {tab === 'operation' ? (
        <div className="tab-body lineage-operation">
          <div className="section-label">
            Code as it ran
            {files.length > 0 && (
              <select value={file} onChange={(e) => setFile(e.target.value)} aria-label="Which code" className="small">
                <option value="">{snap.name || job.name} (the operation)</option>
                {files.map((f) => (
                  <option key={f.key} value={f.key}>
                    {f.key}
                  </option>
                ))}
              </select>
            )}
          </div>
          <div className="lineage-code" data-testid="lineage-code">
            <CodeEditor key={`${job.id}/${file}`} value={code} onChange={() => undefined} readOnly />
          </div>
          <div className="section-label">Attributes</div>
          {Object.keys(snap.attributes).length === 0 ? (
            <p className="muted small">None.</p>
          ) : (
            <table className="table compact" data-testid="lineage-attributes">
              <tbody>
                {Object.entries(snap.attributes).map(([k, v]) => (
                  <tr key={k}>
                    <td className="mono">{k}</td>
                    <td className="mono">{stableJson(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div className="section-label">Inputs</div>
          {Object.keys(job.inputs).length === 0 ? (
            <p className="muted small">None.</p>
          ) : (
            <table className="table compact">
              <tbody>{Object.entries(job.inputs).map(([n, d]) => artifactRow(n, d))}</tbody>
            </table>
          )}
          <div className="section-label">Outputs</div>
          <table className="table compact">
            <tbody>{Object.entries(job.outputs).map(([n, d]) => artifactRow(n, d))}</tbody>
          </table>
          <div className="section-label">Runtime</div>
          <dl className="timings lineage-runtime" data-testid="lineage-runtime">
            {Object.entries(job.runtime).map(([k, v]) => (
              <Pair key={k} k={k} v={v} />
            ))}
            {job.startedMs !== null && <Pair k="started" v={dateTime(job.startedMs)} />}
            {job.startedMs !== null && job.createdMs !== null && <Pair k="took" v={duration(job.createdMs - job.startedMs)} />}
          </dl>
        </div>
      ) : (
        <RunTab client={client} project={project} job={job} onClose={() => setTab('operation')} />
      )}
    </aside>
  );
}

function Pair({ k, v }: { k: string; v: string }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </>
  );
}

/** The job as its execution reports it, shown by the execution view's JobPanel. */
function RunTab({ client, project, job, onClose }: { client: KilnClient; project: string; job: LineageJob; onClose: () => void }) {
  const [found, setFound] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    setFound(null);
    setError(null);
    client.getExecution(job.execution, abort.signal).then(
      (e) => {
        const j = e.jobs.find((x) => x.id === job.id);
        if (j) setFound(j);
        else setError(`run ${job.execution} has no job ${job.id}`);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setError(describeError(e));
      },
    );
    return () => abort.abort();
  }, [client, job.execution, job.id]);
  if (error)
    return (
      <p className="form-error pad" role="alert">
        Could not load this job's run: {error}
      </p>
    );
  if (!found) return <p className="muted pad">Loading…</p>;
  return (
    <div className="lineage-run">
      <JobPanel client={client} project={project} job={found} live={NO_EVENTS} onClose={onClose} />
    </div>
  );
}

const NO_EVENTS: never[] = [];
