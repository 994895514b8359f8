// A lineage as the canvas draws it (graph/GraphCanvas + PortNode, like the
// pipeline and architecture editors): artifacts and jobs as nodes, "used"
// (artifact → job input) and "generated" (job output → artifact) as edges,
// positioned by layout.ts. Pure, so what a node shows is unit-tested.
import type { CanvasEdge, CanvasNode } from '../graph/GraphCanvas';
import { estimatedNodeHeight, type PortNodeData, type RemoteMark } from '../graph/PortNode';
import { formatSize } from '../ui/format';
import { describeOrigin, stableJson, type Cause, type LineageComparison } from './compare';
import { alignedLayout, lineageLayout, type LayoutItem, type LayoutLink, type Point } from './layout';
import type { Lineage, LineageArtifact, LineageJob } from './types';

export const jobNodeId = (prefix: string, id: string) => `${prefix}job:${id}`;
export const artifactNodeId = (prefix: string, digest: string) => `${prefix}artifact:${digest}`;

/** What a canvas node stands for, by node id. */
export type NodeRef =
  | { readonly kind: 'job'; readonly job: LineageJob }
  | { readonly kind: 'artifact'; readonly artifact: LineageArtifact };

export interface LineageGraph {
  readonly nodes: readonly { readonly id: string; readonly data: PortNodeData }[];
  readonly edges: readonly CanvasEdge[];
  readonly refs: ReadonlyMap<string, NodeRef>;
}

/** Attribute lines a job node shows (the rest are in its details). */
const MAX_ATTRIBUTE_LINES = 4;

export function shortDigest(d: string): string {
  return d.slice(0, 10);
}

/** What an artifact is called on the canvas: its output name, its uploaded file's name, else its digest. */
export function artifactTitle(a: LineageArtifact): string {
  if (a.origin.kind === 'job') return a.origin.output;
  if (a.origin.kind !== 'unknown' && a.origin.source) return a.origin.source;
  return shortDigest(a.digest);
}

export function jobLines(l: Lineage, j: LineageJob): string[] {
  const lines: string[] = [];
  if (j.cachedFrom) lines.push('otherProject' in j.cachedFrom ? 'cached (from another project)' : `cached from ${j.cachedFrom.job.slice(0, 10)}`);
  const attrs = Object.entries(l.operations[j.operation]?.attributes ?? {});
  for (const [k, v] of attrs.slice(0, MAX_ATTRIBUTE_LINES)) lines.push(`${k} = ${ellipsis(stableJson(v), 22)}`);
  if (attrs.length > MAX_ATTRIBUTE_LINES) lines.push(`… ${attrs.length - MAX_ATTRIBUTE_LINES} more`);
  return lines;
}

function ellipsis(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function artifactLines(l: Lineage, a: LineageArtifact): string[] {
  const kind = [formatSize(a.size ?? undefined), a.serializer].filter((x) => x && x !== '–').join(' · ');
  const origin = describeOrigin(a.origin, (id) => l.jobs.find((j) => j.id === id)?.name ?? null);
  return [kind, origin].filter((x) => x !== '');
}

/**
 * The nodes and edges of one lineage. `prefix` keeps two lineages apart on
 * one canvas (they share artifacts and even jobs); `marks` decorates nodes
 * (the compared artifact, a differing job) with an outline and a tag.
 */
export function lineageGraph(l: Lineage, prefix = '', marks: ReadonlyMap<string, RemoteMark> = new Map()): LineageGraph {
  const refs = new Map<string, NodeRef>();
  const made = new Set(l.generated.map((g) => g.artifact));
  const usedBy = new Set(l.used.map((u) => u.artifact));
  const nodes: { id: string; data: PortNodeData }[] = [];
  const mark = (id: string): { remote?: readonly RemoteMark[] } => {
    const m = marks.get(id);
    return m ? { remote: [m] } : {};
  };
  for (const a of l.artifacts) {
    const id = artifactNodeId(prefix, a.digest);
    refs.set(id, { kind: 'artifact', artifact: a });
    nodes.push({
      id,
      data: {
        title: artifactTitle(a),
        subtitle: shortDigest(a.digest),
        inputs: made.has(a.digest) ? [{ id: `${id}/in`, label: 'made' }] : [],
        outputs: usedBy.has(a.digest) ? [{ id: `${id}/out`, label: 'used' }] : [],
        lines: artifactLines(l, a),
        ...mark(id),
      },
    });
  }
  for (const j of l.jobs) {
    const id = jobNodeId(prefix, j.id);
    refs.set(id, { kind: 'job', job: j });
    const snap = l.operations[j.operation];
    // The snapshot's port order; ports it does not list (an older snapshot) after.
    const ordered = (names: string[], order: readonly string[] = []) =>
      [...names].sort((p, q) => rank(order, p) - rank(order, q) || p.localeCompare(q));
    nodes.push({
      id,
      data: {
        title: j.name,
        status: j.cachedFrom && j.state === 'succeeded' ? 'cached' : j.state,
        inputs: ordered(Object.keys(j.inputs), snap?.inputs).map((n) => ({ id: `${id}/in/${n}`, label: n })),
        outputs: ordered(Object.keys(j.outputs), snap?.outputs).map((n) => ({ id: `${id}/out/${n}`, label: n })),
        lines: jobLines(l, j),
        ...mark(id),
      },
    });
  }
  const edges: CanvasEdge[] = [
    ...l.used.map((u) => {
      const source = artifactNodeId(prefix, u.artifact);
      const target = jobNodeId(prefix, u.job);
      return { id: `${prefix}used:${u.job}/${u.input}`, source, sourceHandle: `${source}/out`, target, targetHandle: `${target}/in/${u.input}` };
    }),
    ...l.generated.map((g) => {
      const source = jobNodeId(prefix, g.job);
      const target = artifactNodeId(prefix, g.artifact);
      return {
        id: `${prefix}generated:${g.job}/${g.output}`,
        source,
        sourceHandle: `${source}/out/${g.output}`,
        target,
        targetHandle: `${target}/in`,
      };
    }),
  ];
  return { nodes, edges, refs };
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

export function layoutInput(g: LineageGraph): { items: LayoutItem[]; links: LayoutLink[] } {
  return {
    items: g.nodes.map((n) => ({
      id: n.id,
      height: estimatedNodeHeight(n.data.inputs.length, n.data.outputs.length, n.data.lines?.length ?? 0),
    })),
    links: g.edges.map((e) => ({ source: e.source, target: e.target })),
  };
}

function placed(g: LineageGraph, at: ReadonlyMap<string, Point>): CanvasNode[] {
  return g.nodes.map((n) => ({ id: n.id, position: at.get(n.id) ?? { x: 0, y: 0 }, data: n.data }));
}

/** One lineage, laid out. */
export function lineageCanvas(g: LineageGraph): CanvasNode[] {
  const { items, links } = layoutInput(g);
  return placed(g, lineageLayout(items, links));
}

/** Two lineages on one canvas, matched nodes aligned (pairs of node ids). */
export function comparedCanvas(
  a: LineageGraph,
  b: LineageGraph,
  pairs: readonly (readonly [string, string])[],
): { nodes: CanvasNode[]; edges: CanvasEdge[]; bandB: number } {
  const at = alignedLayout(layoutInput(a), layoutInput(b), pairs);
  return { nodes: [...placed(a, at.a), ...placed(b, at.b)], edges: [...a.edges, ...b.edges], bandB: at.bandB };
}

// ---- comparing two lineages on one canvas ----

export const PREFIX_A = 'a/';
export const PREFIX_B = 'b/';

/** The outline and tag of a job per cause (identical jobs get none). */
export const CAUSE_MARKS: Readonly<Record<Exclude<Cause, 'identical'>, RemoteMark>> = {
  own: { colour: '#d97706', name: 'changed' },
  'same-result': { colour: '#65a30d', name: 'same bytes' },
  inputs: { colour: '#64748b', name: 'inputs differ' },
  runtime: { colour: '#0891b2', name: 'runtime differs' },
  nondeterministic: { colour: '#dc2626', name: 'not reproducible' },
  'only-a': { colour: '#7c3aed', name: 'only here' },
  'only-b': { colour: '#7c3aed', name: 'only here' },
};

export const ROOT_MARK: RemoteMark = { colour: '#2563eb', name: 'this artifact' };

/** Node marks of each side: the compared artifacts and every job that differs. */
export function comparisonMarks(c: LineageComparison, a: Lineage, b: Lineage): { a: Map<string, RemoteMark>; b: Map<string, RemoteMark> } {
  const ma = new Map<string, RemoteMark>([[artifactNodeId(PREFIX_A, a.artifact), { colour: ROOT_MARK.colour, name: 'first' }]]);
  const mb = new Map<string, RemoteMark>([[artifactNodeId(PREFIX_B, b.artifact), { colour: ROOT_MARK.colour, name: 'second' }]]);
  for (const d of c.jobs) {
    if (d.cause === 'identical') continue;
    const m = CAUSE_MARKS[d.cause];
    if (d.pair.a) ma.set(jobNodeId(PREFIX_A, d.pair.a.id), m);
    if (d.pair.b) mb.set(jobNodeId(PREFIX_B, d.pair.b.id), m);
  }
  return { a: ma, b: mb };
}

/** Canvas node pairs to align: matched jobs, and the artifacts on the same ports of matched jobs. */
export function comparisonPairs(c: LineageComparison): [string, string][] {
  const pairs: [string, string][] = [];
  const usedA = new Set<string>();
  const usedB = new Set<string>();
  const add = (x: string, y: string) => {
    if (usedA.has(x) || usedB.has(y)) return; // each node in one pair at most
    usedA.add(x);
    usedB.add(y);
    pairs.push([x, y]);
  };
  for (const d of c.jobs) {
    const { a, b } = d.pair;
    if (!a || !b) continue;
    add(jobNodeId(PREFIX_A, a.id), jobNodeId(PREFIX_B, b.id));
    for (const [name, digest] of Object.entries(a.outputs))
      if (b.outputs[name]) add(artifactNodeId(PREFIX_A, digest), artifactNodeId(PREFIX_B, b.outputs[name]!));
    for (const [name, digest] of Object.entries(a.inputs))
      if (b.inputs[name]) add(artifactNodeId(PREFIX_A, digest), artifactNodeId(PREFIX_B, b.inputs[name]!));
  }
  return pairs;
}
