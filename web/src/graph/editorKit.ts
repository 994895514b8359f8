// What the graph editors (pipelines, architectures) share besides the canvas:
// keeping unchanged node data objects (so memoized nodes skip rendering),
// the auto layout of port nodes, a free spot for a new node, and the keyboard
// shortcuts (undo/redo, copy/paste, delete, fit) that are off while typing.
import { useEffect } from 'react';
import { layeredLayout } from './layout';
import { NODE_WIDTH, estimatedNodeHeight, verticalNodeHeight, type PortNodeData, type PortSpec, type RemoteMark } from './PortNode';
import type { CanvasNode } from './GraphCanvas';

function samePorts(a: readonly PortSpec[], b: readonly PortSpec[]): boolean {
  return a.length === b.length && a.every((p, i) => p.id === b[i]!.id && p.label === b[i]!.label && p.dataType === b[i]!.dataType);
}

function sameRemote(a: readonly RemoteMark[] | undefined, b: readonly RemoteMark[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((r, i) => r.colour === b[i]!.colour && r.name === b[i]!.name);
}

function sameLines(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  return (a ?? []).length === (b ?? []).length && (a ?? []).every((l, i) => l === b![i]);
}

/** Whether two node data render the same (so the older object can be kept). */
export function sameNodeData(a: PortNodeData, b: PortNodeData): boolean {
  return (
    a.title === b.title &&
    a.subtitle === b.subtitle &&
    a.status === b.status &&
    a.readOnly === b.readOnly &&
    a.error === b.error &&
    a.vertical === b.vertical &&
    sameLines(a.lines, b.lines) &&
    sameRemote(a.remote, b.remote) &&
    samePorts(a.inputs, b.inputs) &&
    samePorts(a.outputs, b.outputs)
  );
}

/** The part of a graph the layout needs: nodes with port counts, edges between nodes. */
export interface LayoutGraph {
  readonly nodes: readonly { readonly id: string; readonly inputs: { length: number }; readonly outputs: { length: number }; readonly lines?: number }[];
  readonly edges: readonly { readonly source: string; readonly target: string }[];
}

/**
 * Positions for nodes that have none (or all, for auto layout): layers left
 * to right, or top to bottom for vertical nodes (the same layout with the
 * axes swapped).
 */
export function autoLayout(graph: LayoutGraph, vertical = false): Map<string, { x: number; y: number }> {
  const edges = graph.edges.map((e) => ({ source: e.source, target: e.target }));
  if (!vertical)
    return layeredLayout(
      graph.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: estimatedNodeHeight(n.inputs.length, n.outputs.length, n.lines ?? 0) })),
      edges,
      { layerGap: 80, nodeGap: 36 },
    );
  const swapped = layeredLayout(
    graph.nodes.map((n) => ({ id: n.id, width: verticalNodeHeight(n.inputs.length, n.outputs.length, n.lines ?? 0), height: NODE_WIDTH })),
    edges,
    { layerGap: 56, nodeGap: 40 },
  );
  return new Map([...swapped].map(([id, p]) => [id, { x: p.y, y: p.x }]));
}

/** The first place at or below `at` where a new node does not cover another one. */
export function freeSpot(nodes: readonly CanvasNode[], at: { x: number; y: number }): { x: number; y: number } {
  const h = (n: CanvasNode) =>
    (n.data.vertical ? verticalNodeHeight : estimatedNodeHeight)(n.data.inputs.length, n.data.outputs.length, n.data.lines?.length ?? 0);
  const covers = (p: { x: number; y: number }) =>
    nodes.some(
      (n) =>
        p.x < n.position.x + NODE_WIDTH + 20 &&
        p.x + NODE_WIDTH + 20 > n.position.x &&
        p.y < n.position.y + h(n) + 20 &&
        p.y + 120 > n.position.y,
    );
  let p = at;
  for (let i = 0; i < 40 && covers(p); i++) p = { x: at.x + (i % 2) * 40, y: at.y + 60 * (i + 1) };
  return p;
}

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.closest) return false;
  return el.closest('input, textarea, select, [contenteditable="true"], .cm-editor') !== null;
}

export interface EditorKeys {
  /** Null when read-only: no undo, redo, paste or delete. */
  readonly undo: (() => void) | null;
  readonly redo: (() => void) | null;
  readonly copy: (() => void) | null;
  readonly paste: (() => void) | null;
  readonly deleteSelection: (() => void) | null;
  readonly fit: () => void;
}

/**
 * Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y), Ctrl+C / Ctrl+V, Del/Backspace and F while
 * the editor is shown; not while typing in a field, nor under an open dialog.
 */
export function useEditorKeys(keys: EditorKeys): void {
  const { undo, redo, copy, paste, deleteSelection, fit } = keys;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const textSelected = (globalThis.getSelection?.()?.toString() ?? '') !== '';
      let handled = true;
      if (mod && key === 'z' && !e.shiftKey && undo) undo();
      else if (mod && ((key === 'z' && e.shiftKey) || key === 'y') && redo) redo();
      else if (mod && key === 'c' && !textSelected && copy) copy();
      else if (mod && key === 'v' && paste) paste();
      else if (!mod && (e.key === 'Delete' || e.key === 'Backspace') && deleteSelection) deleteSelection();
      else if (!mod && !e.altKey && key === 'f') fit();
      else handled = false;
      if (handled) e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [undo, redo, copy, paste, deleteSelection, fit]);
}
