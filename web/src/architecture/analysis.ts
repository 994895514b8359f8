// The analysis of an architecture (POST /api/v1/nn/analyze, docs/nn.md):
// its types, what the editor derives from it (edge labels, node errors, the
// summary table), and the Analyzer that keeps at most one request in flight
// and sends only the latest document when the previous answer arrives.
import type { JsonValue } from '../model';
import type { ArchitectureDocument } from './toDocument';

/** A dimension: an int or a symbolic expression ("N", "floor((H - 1)/2) + 1"). */
export type Dim = number | string;
/** A tensor's shape, or a tuple of values (its first element is a list). */
export type Value = readonly Dim[] | readonly Value[];

export interface NodeAnalysis {
  readonly inputs?: Readonly<Record<string, Value>>;
  readonly outputs?: Readonly<Record<string, Value>>;
  readonly inferred?: Readonly<Record<string, JsonValue>>;
  readonly parameters?: number;
  readonly macs?: number | string;
  readonly activations?: number | string;
}

export interface AnalysisError {
  readonly node?: string;
  readonly architecture?: string;
  readonly message: string;
}

export interface Analysis {
  readonly ok: boolean;
  readonly nodes: Readonly<Record<string, NodeAnalysis>>;
  readonly errors: readonly AnalysisError[];
  readonly totals?: { readonly parameters?: number; readonly trainable?: number; readonly macs?: number | string };
  readonly code?: string;
}

function isTuple(v: Value): v is readonly Value[] {
  return v.length > 0 && Array.isArray(v[0]);
}

/** "[N, 6, 28, 28]"; a tuple as "([N, 4], [N, 4])". */
export function formatShape(v: Value | undefined): string {
  if (v === undefined) return '';
  if (isTuple(v)) return `(${v.map(formatShape).join(', ')})`;
  return `[${(v as readonly Dim[]).join(', ')}]`;
}

// One formatter for every count: toLocaleString builds a new one per call,
// which costs ~0.1 ms — a summary table of 300 layers paid it 600 times a render.
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** 61706 → "61,706"; an expression stays as it is. */
export function formatCount(v: number | string | null | undefined): string {
  if (typeof v === 'number') return Number.isFinite(v) ? COUNT_FORMAT.format(v) : '';
  return typeof v === 'string' ? v : '';
}

/** The shape an edge carries: its source node's output at that port. */
export function edgeShape(analysis: Analysis | null, source: string, port: string): string {
  return formatShape(analysis?.nodes[source]?.outputs?.[port]);
}

/** The error message of each node (errors without a node are the document's). */
export function errorsByNode(analysis: Analysis | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of analysis?.errors ?? []) if (e.node && !out.has(e.node)) out.set(e.node, e.message);
  return out;
}

export interface SummaryRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly output: string;
  readonly parameters: number | undefined;
  readonly macs: number | string | undefined;
}

/**
 * The torchinfo-like table: one row per node in data-flow order (sources
 * first; ties in the given order), with its output shape(s), parameters and
 * multiply-adds.
 */
export function summaryRows(
  nodes: readonly { id: string; name: string; type: string }[],
  edges: readonly { source: string; target: string }[],
  analysis: Analysis | null,
): SummaryRow[] {
  const order = topologicalOrder(
    nodes.map((n) => n.id),
    edges,
  );
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return order.map((id) => {
    const n = byId.get(id)!;
    const a = analysis?.nodes[id];
    const outs = Object.values(a?.outputs ?? {});
    return {
      id,
      name: n.name,
      type: n.type,
      output: outs.map(formatShape).join(' · '),
      parameters: a?.parameters,
      macs: a?.macs,
    };
  });
}

/** Kahn's order; nodes on a cycle (should not happen) come last in their given order. */
export function topologicalOrder(ids: readonly string[], edges: readonly { source: string; target: string }[]): string[] {
  const indeg = new Map(ids.map((id) => [id, 0]));
  const index = new Map(ids.map((id, i) => [id, i]));
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!indeg.has(e.source) || !indeg.has(e.target)) continue;
    indeg.set(e.target, indeg.get(e.target)! + 1);
    const succ = next.get(e.source);
    if (succ) succ.push(e.target);
    else next.set(e.source, [e.target]);
  }
  const out: string[] = [];
  const done = new Set<string>();
  let ready = ids.filter((id) => indeg.get(id) === 0);
  while (ready.length > 0) {
    const id = ready[0]!;
    ready = ready.slice(1);
    out.push(id);
    done.add(id);
    for (const t of next.get(id) ?? []) {
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) ready = [...ready, t].sort((a, b) => index.get(a)! - index.get(b)!);
    }
  }
  return [...out, ...ids.filter((id) => !done.has(id))];
}

export type AnalyzeFn = (doc: ArchitectureDocument, signal: AbortSignal) => Promise<Analysis>;

/**
 * At most one analysis in flight; a document requested meanwhile waits, and
 * only the latest waiting one is sent when the answer comes (the user's
 * typing does not queue a request per key). An identical document to the
 * last one sent is not sent again. Each answer is reported with the document
 * it is for, so a view can tell whether it is current.
 */
export class Analyzer {
  private inFlight: string | null = null;
  private waiting: ArchitectureDocument | null = null;
  private last: string | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly analyze: AnalyzeFn,
    private readonly onResult: (r: { doc: string; analysis: Analysis } | { doc: string; error: string }) => void,
  ) {}

  /** `key` is JSON.stringify(doc), when the caller has it already (300 layers: a few ms). */
  request(doc: ArchitectureDocument, key: string = JSON.stringify(doc)): void {
    if (this.inFlight !== null) {
      this.waiting = key === this.inFlight ? null : doc;
      return;
    }
    if (key === this.last) return;
    this.send(doc, key);
  }

  /** Stops: no more requests, no more results. */
  close(): void {
    this.abort.abort();
    this.waiting = null;
  }

  private send(doc: ArchitectureDocument, key: string): void {
    this.inFlight = key;
    this.last = key;
    this.analyze(doc, this.abort.signal).then(
      (analysis) => this.finish({ doc: key, analysis }),
      (e: unknown) => this.finish({ doc: key, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  private finish(r: { doc: string; analysis: Analysis } | { doc: string; error: string }): void {
    this.inFlight = null;
    if (this.abort.signal.aborted) return;
    const next = this.waiting;
    this.waiting = null;
    this.onResult(r);
    if (next) this.request(next);
  }
}
