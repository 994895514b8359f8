// A layered ("Sugiyama-style") layout for small directed graphs, enough for
// pipelines and architectures of up to a few hundred nodes without a
// dependency:
//   1. layers by longest path from the sources (cycles are broken by ignoring
//      back edges found in a depth-first search);
//   2. order inside each layer by repeated barycenter sweeps (down, then up),
//      which removes most crossings in practice;
//   3. coordinates: layers left to right, nodes of a layer stacked and centred
//      vertically on the tallest layer.
// Pure: sizes in, positions out (top-left corners, as React Flow wants them).

export interface LayoutNode {
  readonly id: string;
  readonly width: number;
  readonly height: number;
}

export interface LayoutEdge {
  readonly source: string;
  readonly target: string;
}

export interface LayoutOptions {
  /** Horizontal gap between layers. */
  readonly layerGap?: number;
  /** Vertical gap between nodes of one layer. */
  readonly nodeGap?: number;
  /** Barycenter sweeps (each one down and one up). */
  readonly sweeps?: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export function layeredLayout(
  nodes: readonly LayoutNode[],
  edges: readonly LayoutEdge[],
  options: LayoutOptions = {},
): Map<string, Point> {
  const layerGap = options.layerGap ?? 90;
  const nodeGap = options.nodeGap ?? 40;
  const sweeps = options.sweeps ?? 4;
  const ids = new Set(nodes.map((n) => n.id));
  const out = new Map<string, string[]>();
  const inc = new Map<string, string[]>();
  for (const n of nodes) {
    out.set(n.id, []);
    inc.set(n.id, []);
  }
  const forward = acyclicEdges(
    nodes.map((n) => n.id),
    edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target),
  );
  for (const e of forward) {
    out.get(e.source)!.push(e.target);
    inc.get(e.target)!.push(e.source);
  }

  // 1. Longest-path layering, in topological order (Kahn).
  const layer = new Map<string, number>();
  const indeg = new Map<string, number>();
  for (const n of nodes) indeg.set(n.id, inc.get(n.id)!.length);
  const queue = nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  for (const id of queue) layer.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const t of out.get(id)!) {
      layer.set(t, Math.max(layer.get(t) ?? 0, layer.get(id)! + 1));
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) queue.push(t);
    }
  }
  const layerCount = Math.max(0, ...[...layer.values()].map((l) => l + 1));
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const n of nodes) layers[layer.get(n.id) ?? 0]!.push(n.id); // input order is the first guess

  // 2. Barycenter ordering.
  const pos = new Map<string, number>();
  const index = () => layers.forEach((l) => l.forEach((id, i) => pos.set(id, i)));
  index();
  const reorder = (l: string[], neighbours: Map<string, string[]>) => {
    const key = new Map<string, number>();
    l.forEach((id, i) => {
      const ns = neighbours.get(id)!;
      key.set(id, ns.length === 0 ? i : ns.reduce((s, n) => s + pos.get(n)!, 0) / ns.length);
    });
    l.sort((a, b) => key.get(a)! - key.get(b)! || pos.get(a)! - pos.get(b)!);
    l.forEach((id, i) => pos.set(id, i));
  };
  for (let s = 0; s < sweeps; s++) {
    for (let i = 1; i < layers.length; i++) reorder(layers[i]!, inc);
    for (let i = layers.length - 2; i >= 0; i--) reorder(layers[i]!, out);
  }

  // 3. Coordinates.
  const size = new Map(nodes.map((n) => [n.id, n]));
  const layerHeight = layers.map((l) => l.reduce((h, id) => h + size.get(id)!.height, 0) + nodeGap * Math.max(0, l.length - 1));
  const tallest = Math.max(0, ...layerHeight);
  const result = new Map<string, Point>();
  let x = 0;
  layers.forEach((l, i) => {
    const width = Math.max(0, ...l.map((id) => size.get(id)!.width));
    let y = (tallest - layerHeight[i]!) / 2;
    for (const id of l) {
      result.set(id, { x, y: Math.round(y) });
      y += size.get(id)!.height + nodeGap;
    }
    x += width + layerGap;
  });
  return result;
}

/** The edges minus those that close a cycle (back edges of a DFS in input order). */
function acyclicEdges(ids: readonly string[], edges: readonly LayoutEdge[]): LayoutEdge[] {
  const adj = new Map<string, LayoutEdge[]>();
  for (const id of ids) adj.set(id, []);
  for (const e of edges) adj.get(e.source)!.push(e);
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const keep: LayoutEdge[] = [];
  for (const root of ids) {
    if (state.has(root)) continue;
    // Iterative DFS: [node, next edge index].
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const list = adj.get(top[0])!;
      if (top[1] >= list.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const e = list[top[1]++]!;
      const s = state.get(e.target);
      if (s === 1) continue; // back edge: drop
      keep.push(e);
      if (s === undefined) {
        state.set(e.target, 1);
        stack.push([e.target, 0]);
      }
    }
  }
  return keep;
}
