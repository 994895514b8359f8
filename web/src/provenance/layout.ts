// Where the nodes of a lineage go: data flows left to right, so each node's
// column is its level in the flow (the longest path from the data the
// lineage starts from: an upload in column 0, the job that read it in 1, its
// output in 2, …); inside a column, nodes are ordered by the mean row of
// their neighbours (a few sweeps each way), which keeps chains straight.
//
// alignedLayout places two lineages for comparison: matched nodes share a
// column and a row, the first lineage above, the second below, so a job of
// one side sits right above its counterpart and a job one side lacks leaves
// a gap in the other. Pure: ids, edges and heights in, top-left corners out.

export interface LayoutItem {
  readonly id: string;
  readonly height: number;
}

export interface LayoutLink {
  readonly source: string;
  readonly target: string;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface LayoutOptions {
  readonly columnWidth?: number;
  readonly columnGap?: number;
  readonly rowGap?: number;
}

const DEFAULTS = { columnWidth: 220, columnGap: 70, rowGap: 28 };

/**
 * Each node's column: 0 for nodes nothing flows into, else one more than the
 * largest column of what flows into it. A cycle (a lineage has none; a bad
 * answer might) is cut where a depth-first walk meets it.
 */
export function columns(ids: readonly string[], links: readonly LayoutLink[]): Map<string, number> {
  const known = new Set(ids);
  const preds = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const l of links) if (known.has(l.source) && known.has(l.target) && l.source !== l.target) preds.get(l.target)!.push(l.source);
  const col = new Map<string, number>();
  const onStack = new Set<string>();
  const visit = (root: string) => {
    // Iterative post-order walk over predecessors.
    const stack: [string, number][] = [[root, 0]];
    onStack.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ps = preds.get(top[0])!;
      if (top[1] < ps.length) {
        const p = ps[top[1]++]!;
        if (!col.has(p) && !onStack.has(p)) {
          onStack.add(p);
          stack.push([p, 0]);
        }
        continue;
      }
      stack.pop();
      onStack.delete(top[0]);
      col.set(top[0], Math.max(-1, ...ps.map((p) => col.get(p) ?? -1)) + 1);
    }
  };
  for (const id of ids) if (!col.has(id)) visit(id);
  return col;
}

/** Rows inside each column, by barycenter sweeps; `order` gives the first guess. */
function rows(
  ids: readonly string[],
  col: ReadonlyMap<string, number>,
  links: readonly LayoutLink[],
  sweeps = 4,
): Map<string, number> {
  const count = Math.max(0, ...[...col.values()].map((c) => c + 1));
  const byCol: string[][] = Array.from({ length: count }, () => []);
  for (const id of ids) byCol[col.get(id)!]!.push(id);
  const row = new Map<string, number>();
  const index = () => byCol.forEach((c) => c.forEach((id, i) => row.set(id, i)));
  index();
  const preds = new Map<string, string[]>(ids.map((id) => [id, []]));
  const succs = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const l of links)
    if (preds.has(l.target) && succs.has(l.source)) {
      preds.get(l.target)!.push(l.source);
      succs.get(l.source)!.push(l.target);
    }
  const reorder = (c: string[], ns: Map<string, string[]>) => {
    const key = new Map(c.map((id, i) => {
      const n = ns.get(id)!;
      return [id, n.length === 0 ? i : n.reduce((s, x) => s + row.get(x)!, 0) / n.length] as const;
    }));
    c.sort((p, q) => key.get(p)! - key.get(q)! || row.get(p)! - row.get(q)!);
    c.forEach((id, i) => row.set(id, i));
  };
  for (let s = 0; s < sweeps; s++) {
    for (let i = 1; i < count; i++) reorder(byCol[i]!, preds);
    for (let i = count - 2; i >= 0; i--) reorder(byCol[i]!, succs);
  }
  return row;
}

/** One lineage: columns left to right, each column's nodes stacked and centred on the tallest column. */
export function lineageLayout(items: readonly LayoutItem[], links: readonly LayoutLink[], options: LayoutOptions = {}): Map<string, Point> {
  const o = { ...DEFAULTS, ...options };
  const ids = items.map((n) => n.id);
  const col = columns(ids, links);
  const row = rows(ids, col, links);
  const height = new Map(items.map((n) => [n.id, n.height]));
  const stacks = new Map<number, string[]>();
  for (const id of [...ids].sort((p, q) => row.get(p)! - row.get(q)!)) {
    const c = col.get(id)!;
    if (!stacks.has(c)) stacks.set(c, []);
    stacks.get(c)!.push(id);
  }
  const stackHeight = (s: readonly string[]) => s.reduce((h, id) => h + height.get(id)!, 0) + o.rowGap * Math.max(0, s.length - 1);
  const tallest = Math.max(0, ...[...stacks.values()].map(stackHeight));
  const out = new Map<string, Point>();
  for (const [c, s] of stacks) {
    let y = (tallest - stackHeight(s)) / 2;
    for (const id of s) {
      out.set(id, { x: c * (o.columnWidth + o.columnGap), y: Math.round(y) });
      y += height.get(id)! + o.rowGap;
    }
  }
  return out;
}

export interface AlignedLayout {
  readonly a: Map<string, Point>;
  readonly b: Map<string, Point>;
  /** Where the second lineage's band starts (for its label). */
  readonly bandB: number;
}

/**
 * Two lineages, matched nodes (`pairs`: [id in a, id in b]) in the same
 * column and row: the layout of their union, the first lineage's band above
 * the second's. Rows have one pitch (the tallest node), so rows line up.
 */
export function alignedLayout(
  a: { readonly items: readonly LayoutItem[]; readonly links: readonly LayoutLink[] },
  b: { readonly items: readonly LayoutItem[]; readonly links: readonly LayoutLink[] },
  pairs: readonly (readonly [string, string])[],
  options: LayoutOptions & { readonly bandGap?: number } = {},
): AlignedLayout {
  const o = { ...DEFAULTS, bandGap: 60, ...options };
  // Union ids: a's ids as "a:…", b's as "b:…" unless paired with an a node.
  const unionOfB = new Map<string, string>();
  for (const [x, y] of pairs) unionOfB.set(y, `a:${x}`);
  const ua = (id: string) => `a:${id}`;
  const ub = (id: string) => unionOfB.get(id) ?? `b:${id}`;
  const ids = [...new Set([...a.items.map((n) => ua(n.id)), ...b.items.map((n) => ub(n.id))])];
  const links = [
    ...a.links.map((l) => ({ source: ua(l.source), target: ua(l.target) })),
    ...b.links.map((l) => ({ source: ub(l.source), target: ub(l.target) })),
  ];
  const col = columns(ids, links);
  const row = rows(ids, col, links);
  const pitch = Math.max(0, ...a.items.map((n) => n.height), ...b.items.map((n) => n.height)) + o.rowGap;
  const rowCount = Math.max(0, ...[...row.values()].map((r) => r + 1));
  const bandB = rowCount * pitch + o.bandGap;
  const place = (u: string, top: number): Point => ({ x: col.get(u)! * (o.columnWidth + o.columnGap), y: top + row.get(u)! * pitch });
  return {
    a: new Map(a.items.map((n) => [n.id, place(ua(n.id), 0)])),
    b: new Map(b.items.map((n) => [n.id, place(ub(n.id), bandB)])),
    bandB,
  };
}
