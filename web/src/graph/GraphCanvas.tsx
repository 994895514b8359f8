// GraphCanvas: React Flow with the behaviour every Kiln graph editor shares —
// controlled by the caller's model (nodes and edges come from the project tree,
// changes go back as callbacks), local drag state until the drop, selection
// reported upward, connections checked while dragging with the refusal's
// reason shown, drops from a palette, zoom/pan, minimap and controls.
// The pipeline editor uses it; an architecture editor can too.
import {
  Background,
  BackgroundVariant,
  ConnectionLineType,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  type OnConnectEnd,
  type ReactFlowInstance,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './GraphCanvas.css';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type DragEvent, type ReactNode } from 'react';
import { EdgeLabels, EdgeLabelsContext, edgeTypes } from './edgeLabels';
import { nodeTypes, type PortFlowNode, type PortNodeData } from './PortNode';

export interface CanvasNode {
  readonly id: string;
  readonly position: { readonly x: number; readonly y: number };
  readonly data: PortNodeData;
}

export interface CanvasEdge {
  readonly id: string;
  readonly source: string;
  readonly sourceHandle: string;
  readonly target: string;
  readonly targetHandle: string;
  readonly animated?: boolean;
  readonly className?: string;
  /** Text drawn on the edge (an architecture's tensor shape). */
  readonly label?: string;
}

export type ConnectionCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface GraphCanvasProps {
  readonly nodes: readonly CanvasNode[];
  readonly edges: readonly CanvasEdge[];
  readonly readOnly?: boolean;
  /** Called with the final positions of the nodes a drag moved. */
  readonly onNodesMoved?: (positions: Map<string, { x: number; y: number }>) => void;
  readonly onSelectionChange?: (nodes: string[], edges: string[]) => void;
  readonly checkConnection?: (sourceHandle: string, targetHandle: string) => ConnectionCheck;
  readonly onConnect?: (sourceHandle: string, targetHandle: string) => void;
  /** A refused connection attempt, with the reason. */
  readonly onConnectRefused?: (reason: string) => void;
  /** A palette item dropped on the canvas, at flow coordinates. */
  readonly onDropItem?: (item: string, position: { x: number; y: number }) => void;
  readonly dropType?: string;
  readonly onInit?: (instance: ReactFlowInstance<PortFlowNode, Edge>) => void;
  /** Node ids to select (e.g. after a paste); applied when it changes. */
  readonly selectNodes?: readonly string[] | null;
  readonly children?: ReactNode;
}

// Props handed to React Flow that never change. They are module constants so
// that re-rendering the canvas (every frame of a drag: React Flow is
// controlled, so each pointer move sets new nodes) hands React Flow the same
// objects: a new `fitViewOptions` object makes its StoreUpdater write the
// store a second time per frame (every node, edge and handle subscription
// re-runs its selector), and a new `multiSelectionKeyCode` array re-renders
// GraphView and re-registers its key listeners.
const FIT_VIEW_OPTIONS = { padding: 0.1, maxZoom: 1.1 };
const PRO_OPTIONS = { hideAttribution: true };
const MULTI_SELECTION_KEYS = ['Meta', 'Control'];
const MINIMAP_STYLE = { width: 160, height: 110 };

/** `data` with `readOnly` set, the same object for the same `data` (so memoized nodes can skip). */
const readOnlyData = new WeakMap<PortNodeData, PortNodeData>();
function withReadOnly(data: PortNodeData): PortNodeData {
  let d = readOnlyData.get(data);
  if (!d) readOnlyData.set(data, (d = { ...data, readOnly: true }));
  return d;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function GraphCanvas(props: GraphCanvasProps) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}

function Canvas({
  nodes: modelNodes,
  edges: modelEdges,
  readOnly = false,
  onNodesMoved,
  onSelectionChange,
  checkConnection,
  onConnect,
  onConnectRefused,
  onDropItem,
  dropType = 'application/x-kiln-item',
  onInit,
  selectNodes,
  children,
}: GraphCanvasProps) {
  const flow = useReactFlow<PortFlowNode, Edge>();
  const [nodes, setNodes] = useState<PortFlowNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const [hint, setHint] = useState<string | null>(null);
  const hintRef = useRef<string | null>(null);
  const selectionRef = useRef<{ nodes: string; edges: string }>({ nodes: '', edges: '' });
  // The node/edge arrays whose selection may differ from the one last
  // reported: the results of changes that can change it (select, add, remove,
  // replace, a new model, selectNodes), and what is derived from such an array
  // before it was reported. The position changes of a drag are not, so the
  // selection report skips its scan on those frames.
  const unreported = useRef(new WeakSet<object>());
  const mark = useCallback(<T extends object>(next: T, prev: object, changed: boolean): T => {
    if (changed || unreported.current.has(prev)) unreported.current.add(next);
    return next;
  }, []);

  // Merge the model into React Flow's state, keeping what is local to the view
  // (measured size, selection, the position of a node being dragged). A node
  // whose model did not change keeps its object, so React Flow neither
  // re-adopts it nor re-renders it (a commit after a drag changes one
  // position, not 300 nodes).
  useEffect(() => {
    setNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      const merged = modelNodes.map((m) => {
        const o = old.get(m.id);
        const dragging = o?.dragging === true;
        const data = readOnly ? withReadOnly(m.data) : m.data;
        if (
          o &&
          o.data === data &&
          o.draggable === !readOnly &&
          (dragging || (o.position.x === m.position.x && o.position.y === m.position.y))
        )
          return o;
        const next: PortFlowNode = {
          id: m.id,
          type: 'port',
          position: dragging && o ? o.position : { x: m.position.x, y: m.position.y },
          data,
          selected: o?.selected ?? false,
          draggable: !readOnly,
          connectable: !readOnly,
          deletable: false,
        };
        if (o?.measured) next.measured = o.measured;
        if (dragging) next.dragging = true;
        return next;
      });
      // Nothing changed (a new model array of the same nodes: an analysis
      // answer, an edit elsewhere): keep the array, so React Flow's store is
      // not written and its ~1000 node/edge/handle selectors do not re-run.
      if (sameItems(merged, prev)) return prev;
      return mark(merged, prev, true);
    });
  }, [modelNodes, readOnly, mark]);

  useEffect(() => {
    setEdges((prev) => {
      const old = new Map(prev.map((e) => [e.id, e]));
      const merged = modelEdges.map((m) => {
        const o = old.get(m.id);
        if (
          o &&
          o.source === m.source &&
          o.sourceHandle === m.sourceHandle &&
          o.target === m.target &&
          o.targetHandle === m.targetHandle &&
          o.animated === (m.animated ? true : undefined) &&
          o.className === (m.className || undefined)
        )
          return o;
        const e: Edge = {
          id: m.id,
          source: m.source,
          sourceHandle: m.sourceHandle,
          target: m.target,
          targetHandle: m.targetHandle,
          selected: o?.selected ?? false,
          deletable: false,
          type: 'default',
        };
        if (m.animated) e.animated = true;
        if (m.className) e.className = m.className;
        return e;
      });
      if (sameItems(merged, prev)) return prev;
      return mark(merged, prev, true);
    });
  }, [modelEdges, mark]);

  // The labels go to the edges through `labels` (edgeLabels.tsx), not as
  // edge fields: an analysis answer then re-renders the labels only. Set in a
  // layout effect, before the edges effect hands React Flow a new edge, so a
  // new edge reads its label on its first render.
  const [labels] = useState(() => new EdgeLabels());
  useLayoutEffect(() => {
    const next = new Map<string, string>();
    for (const e of modelEdges) if (e.label) next.set(e.id, e.label);
    labels.set(next);
  }, [labels, modelEdges]);

  useEffect(() => {
    if (!selectNodes) return;
    const want = new Set(selectNodes);
    setNodes((ns) => mark(ns.map((n) => ({ ...n, selected: want.has(n.id) })), ns, true));
    setEdges((es) => mark(es.map((e) => ({ ...e, selected: false })), es, true));
  }, [selectNodes, mark]);

  // Report selection changes (after React Flow applied them).
  useEffect(() => {
    const u = unreported.current;
    if (!u.has(nodes) && !u.has(edges)) return;
    u.delete(nodes);
    u.delete(edges);
    const n = nodes.filter((x) => x.selected).map((x) => x.id);
    const e = edges.filter((x) => x.selected).map((x) => x.id);
    const key = { nodes: n.join(','), edges: e.join(',') };
    if (key.nodes === selectionRef.current.nodes && key.edges === selectionRef.current.edges) return;
    selectionRef.current = key;
    onSelectionChange?.(n, e);
  }, [nodes, edges, onSelectionChange]);

  const onNodesChange = useCallback(
    (changes: NodeChange<PortFlowNode>[]) => {
      const moved = new Map<string, { x: number; y: number }>();
      let selection = false;
      for (const c of changes)
        if (c.type !== 'position' && c.type !== 'dimensions') selection = true;
        else if (c.type === 'position' && c.dragging === false) {
          const p = c.position ?? flow.getNode(c.id)?.position;
          if (p) moved.set(c.id, { x: p.x, y: p.y });
        }
      setNodes((ns) => mark(applyNodeChanges(changes, ns), ns, selection));
      if (moved.size > 0 && !readOnly) queueMicrotask(() => onNodesMoved?.(moved));
    },
    [flow, onNodesMoved, readOnly, mark],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => setEdges((es) => mark(applyEdgeChanges(changes, es), es, true)),
    [mark],
  );

  const isValidConnection: IsValidConnection = useCallback(
    (c) => {
      if (readOnly || !checkConnection || !c.sourceHandle || !c.targetHandle) return false;
      const r = checkConnection(c.sourceHandle, c.targetHandle);
      const text = r.ok ? null : r.reason;
      if (text !== hintRef.current) {
        hintRef.current = text;
        queueMicrotask(() => setHint(text));
      }
      return r.ok;
    },
    [checkConnection, readOnly],
  );

  const handleConnect = useCallback(
    (c: Connection) => {
      if (c.sourceHandle && c.targetHandle) onConnect?.(c.sourceHandle, c.targetHandle);
    },
    [onConnect],
  );

  const handleConnectEnd: OnConnectEnd = useCallback(
    (_event, state) => {
      const reason = hintRef.current;
      hintRef.current = null;
      setHint(null);
      if (state.toHandle && !state.isValid && reason) onConnectRefused?.(reason);
    },
    [onConnectRefused],
  );

  const onDragOver = useCallback(
    (e: DragEvent) => {
      if (readOnly || !e.dataTransfer.types.includes(dropType)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    [dropType, readOnly],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      const item = e.dataTransfer.getData(dropType);
      if (readOnly || !item) return;
      e.preventDefault();
      onDropItem?.(item, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [dropType, flow, onDropItem, readOnly],
  );

  return (
    <div className="graph-canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <EdgeLabelsContext.Provider value={labels}>
        <ReactFlow<PortFlowNode, Edge>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={handleConnect}
          onConnectEnd={handleConnectEnd}
          isValidConnection={isValidConnection}
          onInit={onInit}
          nodesDraggable={!readOnly}
          nodesConnectable={!readOnly}
          deleteKeyCode={null}
          selectionKeyCode="Shift"
          multiSelectionKeyCode={MULTI_SELECTION_KEYS}
          connectionLineType={ConnectionLineType.Bezier}
          fitView
          fitViewOptions={FIT_VIEW_OPTIONS}
          minZoom={0.2}
          maxZoom={2.5}
          proOptions={PRO_OPTIONS}
        >
          <Background variant={BackgroundVariant.Dots} gap={18} size={1.2} color="#cbd2dc" />
          <Controls showInteractive={false} position="bottom-left" />
          {nodes.length > 12 && (
            <MiniMap
              pannable
              zoomable
              position="bottom-right"
              style={MINIMAP_STYLE}
              nodeColor="#d0d5dd"
              maskColor="rgba(240, 242, 245, 0.6)"
            />
          )}
          {children}
        </ReactFlow>
      </EdgeLabelsContext.Provider>
      {hint && (
        <div className="connect-hint" role="status" data-testid="connect-hint">
          Can't connect: {hint}
        </div>
      )}
    </div>
  );
}
