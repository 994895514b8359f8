// The compare view's side panel: why two artifacts differ. The root causes
// first (compare.ts orders them: what someone changed, then data, then the
// environment), then each job that differs with what differs — attribute
// values, code and architecture code as line diffs, inputs and why they
// differ, runtime, outputs — and the jobs that are the same on both sides.
import { useEffect, useState, type ReactNode } from 'react';
import type { KilnClient } from '@kiln/client';
import { CAUSE_MARKS } from './graph';
import { metricChanges, metricText, type MetricChange } from './metrics';
import { changeText, type JobDiff, type LineageComparison } from './compare';
import { hunks, type DiffLine } from './lineDiff';

const CAUSE_TEXT: Readonly<Record<JobDiff['cause'], string>> = {
  identical: 'the same',
  'same-result': 'differs, made the same bytes',
  own: 'changed',
  inputs: 'its inputs differ',
  runtime: 'its runtime differs',
  nondeterministic: 'same inputs, other result',
  'only-a': 'only in the first',
  'only-b': 'only in the second',
};

export function Differences({
  client,
  comparison,
  first,
  second,
  onShow,
}: {
  client: KilnClient;
  comparison: LineageComparison;
  first: string;
  second: string;
  /** Selects a job's node(s) on the canvas. */
  onShow: (d: JobDiff) => void;
}) {
  const differing = comparison.jobs.filter((d) => d.cause !== 'identical');
  const same = comparison.jobs.filter((d) => d.cause === 'identical');
  return (
    <aside className="lineage-side lineage-differences" aria-label="Differences" data-testid="lineage-differences">
      <div className="panel-title">Differences</div>
      <p className="small pad-x">
        <span className="lineage-band-key first">first (above)</span> {first}
        <br />
        <span className="lineage-band-key second">second (below)</span> {second}
      </p>
      {comparison.sameArtifact && <p className="pad-x">These are the same bytes: the lineages are of one artifact.</p>}
      <div className="pad-x">
        <div className="section-label">Why they differ</div>
        {comparison.causes.length > 0 ? (
          <ol className="lineage-causes" data-testid="lineage-causes">
            {comparison.causes.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ol>
        ) : (
          <p className="muted small">
            {comparison.sameArtifact
              ? 'Nothing differs.'
              : 'No job differs in code, attributes, inputs or runtime within this depth: look deeper (depth) or at the data.'}
          </p>
        )}
        {comparison.downstream.length > 0 && (
          <p className="muted small">Differ only because their inputs did: {comparison.downstream.join(', ')}.</p>
        )}
      </div>
      {differing.map((d) => (
        <section key={d.key} className="lineage-diff" data-testid="job-diff" data-job={d.name}>
          <header>
            <strong>{d.name}</strong>
            <span className="lineage-badge" style={{ background: d.cause === 'identical' ? undefined : CAUSE_MARKS[d.cause].colour }}>
              {CAUSE_TEXT[d.cause]}
            </span>
            <button type="button" className="link small" onClick={() => onShow(d)}>
              Show
            </button>
          </header>
          {d.attributes.length > 0 && (
            <Group title="Attributes">
              {d.attributes.map((c) => (
                <li key={c.name} className="mono" data-testid="diff-attribute">
                  {c.name}: {changeText(c.a, c.b)}
                </li>
              ))}
            </Group>
          )}
          {d.code && (
            <div className="lineage-diff-group">
              <div className="section-label">Code</div>
              <CodeDiff lines={d.code} />
            </div>
          )}
          {d.resources.map((r) => (
            <div key={`${r.resource}/${r.file}`} className="lineage-diff-group">
              <div className="section-label">
                {r.resource}: {r.file}
              </div>
              <CodeDiff lines={r.diff} />
            </div>
          ))}
          {d.inputs.length > 0 && (
            <Group title="Inputs">
              {d.inputs.map((i) => (
                <li key={i.input}>
                  <span className="mono">{i.input}</span>: <code>{i.a?.slice(0, 10) ?? '–'}</code> → <code>{i.b?.slice(0, 10) ?? '–'}</code>{' '}
                  <span className="muted">({i.detail})</span>
                </li>
              ))}
            </Group>
          )}
          {d.runtime.length > 0 && (
            <Group title="Runtime">
              {d.runtime.map((r) => (
                <li key={r.key} className="mono">
                  {r.key}: {changeText(r.a, r.b)}
                </li>
              ))}
            </Group>
          )}
          {d.outputs.length > 0 && (
            <Group title="Outputs">
              {d.outputs.map((o) => (
                <li key={o.key}>
                  <span className="mono">{o.key}</span>: <code>{o.a?.slice(0, 10) ?? '–'}</code> → <code>{o.b?.slice(0, 10) ?? '–'}</code>
                </li>
              ))}
            </Group>
          )}
          {d.pair.a && d.pair.b && d.pair.a.id !== d.pair.b.id && <MetricsDiff client={client} a={d.pair.a.id} b={d.pair.b.id} />}
        </section>
      ))}
      {same.length > 0 && (
        <p className="muted small pad-x">
          The same on both sides (code, attributes, inputs, runtime, outputs): {same.map((d) => d.name).join(', ')}.
        </p>
      )}
    </aside>
  );
}

function Group({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="lineage-diff-group">
      <div className="section-label">{title}</div>
      <ul>{children}</ul>
    </div>
  );
}

function CodeDiff({ lines }: { lines: readonly DiffLine[] }) {
  return (
    <pre className="lineage-code-diff" data-testid="code-diff">
      {hunks(lines).map((h, i) => (
        <div key={i} className="hunk">
          <div className="hunk-head">
            @@ −{h.aStart} +{h.bStart} @@
          </div>
          {h.lines.map((l, k) => (
            <div key={k} className={`line ${l.kind}`}>
              {l.kind === 'same' ? ' ' : l.kind === 'del' ? '−' : '+'} {l.text}
            </div>
          ))}
        </div>
      ))}
    </pre>
  );
}

/** The metrics both jobs logged: the last value of each series, side by side; loaded when shown. */
function MetricsDiff({ client, a, b }: { client: KilnClient; a: string; b: string }) {
  const [changes, setChanges] = useState<readonly MetricChange[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    Promise.all([client.jobMetrics(a, abort.signal), client.jobMetrics(b, abort.signal)]).then(
      ([ma, mb]) => setChanges(metricChanges(ma, mb)),
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => abort.abort();
  }, [client, a, b]);
  if (error) return <p className="muted small">Metrics could not be read: {error}</p>;
  if (!changes || changes.length === 0) return null;
  return (
    <Group title="Metrics (last value)">
      {changes.map((m) => (
        <li key={m.name} className="mono" data-testid="diff-metric">
          {m.name}: {metricText(m.a)} → {metricText(m.b)}
          {m.pointsA !== m.pointsB && <span className="muted"> ({m.pointsA} vs {m.pointsB} points)</span>}
        </li>
      ))}
    </Group>
  );
}
