// The lineage view (#/p/{p}/lineage/{digest}): how an artifact was made —
// or, with direction down, what was made from it — drawn with the editors'
// canvas (GraphCanvas, read-only): artifacts and jobs as nodes, used and
// generated as edges, data on the left. A job opens its details (the code as
// it ran, attributes, inputs, runtime; console, metrics and figures), an
// artifact its own. From here: the PROV-JSON download, "Compare with…"
// (#/…/lineage/{digest}/vs/{other}: both lineages aligned, the differing
// jobs marked and explained in the side panel) and "Make a pipeline from
// this" (reify).
import type { Edge, ReactFlowInstance } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { KilnClient } from '@kiln/client';
import { CanvasTools } from '../graph/CanvasTools';
import type { CanvasEdge, CanvasNode } from '../graph/GraphCanvas';
import { GraphCanvas } from '../graph/GraphCanvas';
import type { PortFlowNode } from '../graph/PortNode';
import { navigate, projectHref } from '../router';
import { dateTime, describeError, formatSize } from '../ui/format';
import { DEFAULT_DEPTH, getLineage, MAX_DEPTH, parseDepth, provJsonUrl } from './api';
import { compareLineages, describeOrigin, type JobDiff, type LineageComparison } from './compare';
import { CompareDialog } from './CompareDialog';
import { Differences } from './Differences';
import {
  artifactNodeId,
  artifactTitle,
  comparedCanvas,
  comparisonMarks,
  comparisonPairs,
  jobNodeId,
  lineageCanvas,
  lineageGraph,
  PREFIX_A,
  PREFIX_B,
  ROOT_MARK,
  type NodeRef,
} from './graph';
import { JobDetails } from './JobDetails';
import { Preview } from '../preview/Preview';
import { ReifyDialog } from './ReifyDialog';
import { DIRECTIONS, type Direction, type Lineage, type LineageArtifact } from './types';
import './provenance.css';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly a: Lineage; readonly b: Lineage | null };

interface Drawn {
  readonly nodes: readonly CanvasNode[];
  readonly edges: readonly CanvasEdge[];
  readonly refs: ReadonlyMap<string, NodeRef & { readonly lineage: Lineage }>;
  readonly comparison: LineageComparison | null;
}

const DIRECTION_TEXT: Readonly<Record<Direction, string>> = { up: 'How it was made', down: 'What was made from it', both: 'Both' };

export function LineageView({
  client,
  project,
  branch,
  digest,
  compare,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  digest: string;
  /** The second artifact, when comparing. */
  compare: string | null;
}) {
  const [direction, setDirection] = useState<Direction>('up');
  const [depth, setDepth] = useState(DEFAULT_DEPTH);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [selected, setSelected] = useState<string | null>(null);
  const [selectNodes, setSelectNodes] = useState<readonly string[] | null>(null);
  const [dialog, setDialog] = useState<'compare' | 'reify' | null>(null);
  const flow = useRef<ReactFlowInstance<PortFlowNode, Edge> | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    setLoad({ kind: 'loading' });
    setSelected(null);
    const query = { depth, direction };
    Promise.all([
      getLineage(client, project, digest, query, abort.signal),
      compare ? getLineage(client, project, compare, query, abort.signal) : Promise.resolve(null),
    ]).then(
      ([a, b]) => setLoad({ kind: 'ready', a, b }),
      (e: unknown) => {
        if (!abort.signal.aborted) setLoad({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, digest, compare, direction, depth]);

  const drawn: Drawn | null = useMemo(() => {
    if (load.kind !== 'ready') return null;
    const { a, b } = load;
    if (!b) {
      const g = lineageGraph(a, '', new Map([[artifactNodeId('', a.artifact), ROOT_MARK]]));
      return { nodes: lineageCanvas(g), edges: g.edges, refs: withLineage(g.refs, a), comparison: null };
    }
    const comparison = compareLineages(a, b);
    const marks = comparisonMarks(comparison, a, b);
    const ga = lineageGraph(a, PREFIX_A, marks.a);
    const gb = lineageGraph(b, PREFIX_B, marks.b);
    const c = comparedCanvas(ga, gb, comparisonPairs(comparison));
    return { nodes: c.nodes, edges: c.edges, refs: new Map([...withLineage(ga.refs, a), ...withLineage(gb.refs, b)]), comparison };
  }, [load]);

  const fit = useCallback(() => void flow.current?.fitView({ padding: 0.1, maxZoom: 1.1, duration: 300 }), []);
  // A new answer (direction, depth, another artifact): show all of it.
  useEffect(() => {
    if (!drawn) return;
    const t = setTimeout(fit, 60);
    return () => clearTimeout(t);
  }, [drawn, fit]);

  const onSelectionChange = useCallback((nodes: string[]) => setSelected(nodes[0] ?? null), []);
  const select = (ids: readonly string[]) => {
    setSelectNodes([...ids]);
    setSelected(ids[0] ?? null);
  };
  const showDiff = (d: JobDiff) =>
    select([d.pair.a ? jobNodeId(PREFIX_A, d.pair.a.id) : null, d.pair.b ? jobNodeId(PREFIX_B, d.pair.b.id) : null].filter((x): x is string => x !== null));

  const root = load.kind === 'ready' ? load.a.artifacts.find((x) => x.digest === load.a.artifact) : undefined;
  const rootName = root ? artifactTitle(root) : digest.slice(0, 12);
  const ref = selected ? drawn?.refs.get(selected) : undefined;
  const prefixOf = (id: string) => (id.startsWith(PREFIX_B) ? PREFIX_B : id.startsWith(PREFIX_A) ? PREFIX_A : '');

  let side = null;
  if (ref && selected && ref.kind === 'job')
    side = (
      <JobDetails
        key={selected}
        client={client}
        project={project}
        branch={branch}
        lineage={ref.lineage}
        job={ref.job}
        onOpenArtifact={(d) => select([artifactNodeId(prefixOf(selected), d)])}
        onClose={() => select([])}
      />
    );
  else if (ref && selected && ref.kind === 'artifact')
    side = (
      <ArtifactDetails
        client={client}
        project={project}
        branch={branch}
        lineage={ref.lineage}
        artifact={ref.artifact}
        current={digest}
        onClose={() => select([])}
      />
    );
  else if (drawn?.comparison && load.kind === 'ready' && load.b)
    side = (
      <Differences
        client={client}
        comparison={drawn.comparison}
        first={`${rootName} ${digest.slice(0, 10)}`}
        second={`${titleOf(load.b)} ${load.b.artifact.slice(0, 10)}`}
        onShow={showDiff}
      />
    );

  const madeByJob = root?.origin.kind === 'job';
  return (
    <div className="pipeline-editor lineage-view" data-testid="lineage-view">
      <div className="canvas-column">
        <div className="canvas-toolbar">
          <div className="toolbar-group">
            <strong className="pipeline-title" data-testid="lineage-title">
              {compare ? 'Lineages of ' : 'Lineage of '}
              {rootName} <code className="muted">{digest.slice(0, 10)}</code>
              {compare && (
                <>
                  {' '}
                  and <code className="muted">{compare.slice(0, 10)}</code>
                </>
              )}
            </strong>
            {drawn && (
              <span className="muted small counts">
                {load.kind === 'ready' && `${load.a.jobs.length + (load.b?.jobs.length ?? 0)} jobs · ${load.a.artifacts.length + (load.b?.artifacts.length ?? 0)} artifacts`}
              </span>
            )}
          </div>
          <div className="toolbar-group">
            <div className="segmented" role="group" aria-label="Direction">
              {DIRECTIONS.map((d) => (
                <button
                  key={d}
                  type="button"
                  className={`tool ${direction === d ? 'active' : ''}`}
                  aria-pressed={direction === d}
                  onClick={() => setDirection(d)}
                  title={DIRECTION_TEXT[d]}
                  data-testid={`direction-${d}`}
                >
                  {d === 'up' ? '← Up' : d === 'down' ? 'Down →' : '↔ Both'}
                </button>
              ))}
            </div>
            <DepthInput depth={depth} onChange={setDepth} />
            <CanvasTools editing={null} readOnly onLayout={fit} layoutTitle="" onFit={fit} />
            <span className="toolbar-sep" />
            <a className="tool" href={provJsonUrl(client, project, digest, { depth, direction })} download={`lineage-${digest.slice(0, 12)}.prov.json`} data-testid="prov-download" title="Download this lineage as W3C PROV-JSON">
              PROV-JSON ↓
            </a>
            {compare ? (
              <a className="tool" href={projectHref(project, { kind: 'lineage', digest, compare: null }, { branch })}>
                Stop comparing
              </a>
            ) : (
              <button type="button" className="tool" onClick={() => setDialog('compare')} data-testid="compare-lineage">
                Compare with…
              </button>
            )}
            <button
              type="button"
              className="tool primary"
              onClick={() => setDialog('reify')}
              disabled={!madeByJob}
              title={madeByJob ? 'A new branch with a pipeline that makes this artifact again' : 'No job made this artifact: there is nothing to reproduce'}
              data-testid="reify"
            >
              Make a pipeline from this
            </button>
          </div>
        </div>
        {load.kind === 'ready' && (load.a.truncated || load.b?.truncated) && (
          <div className="lineage-banner" role="status">
            The walk stopped at depth {depth}; there is more beyond.{' '}
            <button type="button" className="link" onClick={() => setDepth(Math.min(MAX_DEPTH, Math.max(10, depth * 10)))}>
              Go deeper
            </button>
          </div>
        )}
        <div className="canvas-area">
          {load.kind === 'loading' && (
            <div className="state centered loading" role="status">
              <span className="spinner" aria-hidden="true" /> Walking the lineage…
            </div>
          )}
          {load.kind === 'error' && (
            <div className="state error centered" role="alert" data-testid="lineage-error">
              Could not read the lineage: {load.message}
              <div>
                <a href={projectHref(project, { kind: 'artifacts' }, { branch })}>Back to the artifacts</a>
              </div>
            </div>
          )}
          {drawn && (
            <GraphCanvas
              nodes={drawn.nodes}
              edges={drawn.edges}
              readOnly
              onSelectionChange={onSelectionChange}
              onInit={(f) => (flow.current = f)}
              selectNodes={selectNodes}
            >
              {load.kind === 'ready' && load.a.jobs.length === 0 && !load.b && root && (
                <div className="canvas-empty">
                  <h3>{direction === 'down' ? 'Nothing was made from it yet' : 'No job made this artifact'}</h3>
                  <p>{describeOrigin(root.origin, () => null)}.</p>
                </div>
              )}
            </GraphCanvas>
          )}
        </div>
      </div>
      {side}
      {dialog === 'compare' && (
        <CompareDialog client={client} project={project} branch={branch} digest={digest} name={rootName} onClose={() => setDialog(null)} />
      )}
      {dialog === 'reify' && (
        <ReifyDialog client={client} project={project} from={branch} digest={digest} name={rootName} onClose={() => setDialog(null)} />
      )}
    </div>
  );
}

export default LineageView;

function withLineage(refs: ReadonlyMap<string, NodeRef>, lineage: Lineage): Map<string, NodeRef & { lineage: Lineage }> {
  return new Map([...refs].map(([id, r]) => [id, { ...r, lineage }]));
}

function titleOf(l: Lineage): string {
  const a = l.artifacts.find((x) => x.digest === l.artifact);
  return a ? artifactTitle(a) : l.artifact.slice(0, 12);
}

/** Depth in job levels; applied on Enter or when the field is left (not on every keystroke: each is a walk). */
function DepthInput({ depth, onChange }: { depth: number; onChange: (d: number) => void }) {
  const [text, setText] = useState(String(depth));
  useEffect(() => setText(String(depth)), [depth]);
  const n = parseDepth(text);
  const valid = n !== null;
  const apply = () => {
    if (n !== null && n !== depth) onChange(n);
    else if (n === null) setText(String(depth));
  };
  return (
    <label className="lineage-depth" title={`Job levels to walk (0–${MAX_DEPTH})`}>
      <span className="muted small">Depth</span>
      <input
        type="number"
        min={0}
        max={MAX_DEPTH}
        value={text}
        aria-invalid={!valid}
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => {
          if (e.key === 'Enter') apply();
        }}
        data-testid="lineage-depth"
      />
    </label>
  );
}

function ArtifactDetails({
  client,
  project,
  branch,
  lineage,
  artifact: a,
  current,
  onClose,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  lineage: Lineage;
  artifact: LineageArtifact;
  current: string;
  onClose: () => void;
}) {
  const jobName = (id: string) => lineage.jobs.find((j) => j.id === id)?.name ?? null;
  const when = a.origin.kind !== 'job' && a.origin.kind !== 'unknown' ? a.origin.createdMs : null;
  return (
    <aside className="lineage-side" aria-label={`Artifact ${artifactTitle(a)}`} data-testid="lineage-artifact">
      <div className="job-head">
        <div className="job-title">
          <strong>{artifactTitle(a)}</strong>
        </div>
        <button type="button" className="ghost icon" onClick={onClose} aria-label="Close the artifact details">
          ×
        </button>
      </div>
      <dl className="timings lineage-runtime pad-x">
        <dt>digest</dt>
        <dd className="mono lineage-digest">{a.digest}</dd>
        <dt>size</dt>
        <dd>{formatSize(a.size ?? undefined)}</dd>
        <dt>kind</dt>
        <dd>{a.serializer ?? '–'}</dd>
        <dt>origin</dt>
        <dd>{describeOrigin(a.origin, jobName)}</dd>
        {when !== null && (
          <>
            <dt>when</dt>
            <dd>{dateTime(when)}</dd>
          </>
        )}
      </dl>
      <div className="lineage-actions pad-x">
        <a className="button secondary small" href={client.artifactUrl(a.digest, project, branch)} download>
          Download
        </a>
        {a.digest !== current && (
          <>
            <button type="button" className="secondary small" onClick={() => navigate(projectHref(project, { kind: 'lineage', digest: a.digest, compare: null }, { branch }))}>
              Its lineage
            </button>
            <button
              type="button"
              className="secondary small"
              onClick={() => navigate(projectHref(project, { kind: 'lineage', digest: current, compare: a.digest }, { branch }))}
            >
              Compare with {current.slice(0, 8)}
            </button>
          </>
        )}
      </div>
      <div className="pad-x" data-testid="lineage-artifact-preview">
        <Preview client={client} project={project} digest={a.digest} serializer={a.serializer ?? undefined} name={artifactTitle(a)} />
      </div>
    </aside>
  );
}
