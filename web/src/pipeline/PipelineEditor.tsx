// The pipeline editor: a palette of operation definitions, the graph of
// operation instances (GraphCanvas), and an inspector for the selection.
// Every change is a patch handed to `editing.edit` (the sync module applies
// it optimistically and sends it); remote edits arrive as a new `tree`.
// Read-only (an old commit, an execution) when `editing` is null. The
// inspector floats over the canvas; selecting a node it would cover pans the
// node into sight.
import type { Edge, ReactFlowInstance } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Backend } from '@kiln/client';
import type { ArtifactSource } from '../artifacts/source';
import { canConnect, type Guid, type Op, type Tree } from '../model';
import { CanvasTools } from '../graph/CanvasTools';
import { GraphCanvas, type CanvasEdge, type CanvasNode } from '../graph/GraphCanvas';
import { autoLayout, freeSpot, sameNodeData, useEditorKeys } from '../graph/editorKit';
import { revealShift, visibleArea } from '../graph/reveal';
import { NODE_WIDTH, type PortFlowNode, type PortNodeData, type RemoteMark } from '../graph/PortNode';
import {
  connectOps,
  createInstanceOps,
  deleteOps,
  operationDefinitions,
  pasteOps,
  pipelineGraph,
  positionOps,
  nameOf,
  type GraphNode,
} from './model';
import { addDataOperationOps, DATA_OPERATIONS, decodeDropItem, DROP_TYPE, inputArtifact, operationKind, type DropItem } from './data';
import { Inspector } from './Inspector';
import { Palette } from './Palette';
import { useInputChoices } from './useInputChoices';

export interface Editing {
  edit(ops: readonly Op[], label: string): string | null;
  undo(): void;
  redo(): void;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  select(nodes: readonly Guid[]): void;
  notify(kind: 'error' | 'info', text: string): void;
}

export interface PipelineEditorProps {
  readonly tree: Tree;
  readonly pipeline: Guid;
  readonly editing: Editing | null;
  readonly remote?: ReadonlyMap<Guid, RemoteMark[]>;
  /** Job state per operation instance (execution view). */
  readonly statuses?: ReadonlyMap<Guid, string>;
  /** Extra toolbar content (Run button, read-only banner…). */
  readonly toolbar?: ReactNode;
  /** Replaces the inspector (e.g. the job panel of an execution). */
  readonly side?: ReactNode;
  readonly onSelectNode?: (node: Guid | null) => void;
  readonly operationHref?: (definition: Guid) => string;
  /** The project's artifacts on this branch: Inputs pick from them and upload to them. */
  readonly artifacts?: ArtifactSource;
  /** The server's compute backends, for the inspector's Resources (null: not known). */
  readonly backends?: readonly Backend[] | null;
}

const NO_REMOTE: readonly RemoteMark[] = [];

// The in-app clipboard (copy/paste of operation instances within a project).
let clipboard: { pipeline: Guid; nodes: Guid[]; pastes: number } | null = null;

export function PipelineEditor({
  tree,
  pipeline,
  editing,
  remote,
  statuses,
  toolbar,
  side,
  onSelectNode,
  operationHref,
  artifacts,
  backends = null,
}: PipelineEditorProps) {
  const graph = useMemo(() => pipelineGraph(tree, pipeline), [tree, pipeline]);
  const definitions = useMemo(() => operationDefinitions(tree), [tree]);
  const inputs = useInputChoices(tree, editing ? artifacts : undefined);
  const [selection, setSelection] = useState<{ nodes: Guid[]; edges: Guid[] }>({ nodes: [], edges: [] });
  const [selectNodes, setSelectNodes] = useState<Guid[] | null>(null);
  const flowRef = useRef<ReactFlowInstance<PortFlowNode, Edge> | null>(null);
  const readOnly = editing === null;

  const fallback = useMemo(() => {
    return graph.nodes.some((n) => n.position === null) ? autoLayout(graph) : new Map<Guid, { x: number; y: number }>();
  }, [graph]);

  // The last `data` of each node: a node whose data did not change keeps the
  // object, so its memoized view is not re-rendered when the tree changes
  // elsewhere (a moved node commits a new tree: 299 other nodes are the same).
  const dataCache = useRef(new Map<Guid, PortNodeData>());
  const canvasNodes: CanvasNode[] = useMemo(() => {
    const before = dataCache.current;
    const after = new Map<Guid, PortNodeData>();
    const nodes = graph.nodes.map((n: GraphNode) => {
      const kind = operationKind(tree, n.id);
      const fresh: PortNodeData = {
        title: n.name,
        // An Input says whether it reads anything yet.
        subtitle:
          kind === 'input' && !inputArtifact(tree, n.id) ? `${n.type} · no artifact chosen` : n.type !== n.name ? n.type : '',
        inputs: n.inputs.map((p) => ({ id: p.guid, label: p.name, dataType: p.dataType })),
        outputs: n.outputs.map((p) => ({ id: p.guid, label: p.name, dataType: p.dataType })),
        lines: n.references,
        status: statuses?.get(n.id),
        remote: remote?.get(n.id) ?? NO_REMOTE,
      };
      const old = before.get(n.id);
      const data = old && sameNodeData(old, fresh) ? old : fresh;
      after.set(n.id, data);
      return { id: n.id, position: n.position ?? fallback.get(n.id) ?? { x: 0, y: 0 }, data };
    });
    dataCache.current = after;
    return nodes;
  }, [graph, fallback, statuses, remote, tree]);

  const canvasEdges: CanvasEdge[] = useMemo(
    () =>
      graph.edges.map((e) => {
        const s = statuses?.get(e.source);
        const t = statuses?.get(e.target);
        const edge: CanvasEdge = { ...e, animated: t === 'running' || (s === 'running' && t !== undefined) };
        return s ? { ...edge, className: `edge-${s}` } : edge;
      }),
    [graph, statuses],
  );

  const edit = useCallback(
    (ops: readonly Op[], label: string) => (editing ? editing.edit(ops, label) : 'read-only'),
    [editing],
  );

  const onSelectionChange = useCallback(
    (nodes: string[], edges: string[]) => {
      setSelection({ nodes, edges });
      editing?.select([...nodes, ...edges]);
      onSelectNode?.(nodes.length === 1 ? nodes[0]! : null);
    },
    [editing, onSelectNode],
  );

  const onNodesMoved = useCallback(
    (positions: Map<string, { x: number; y: number }>) => {
      edit(positionOps(positions), positions.size > 1 ? 'Move operations' : 'Move operation');
    },
    [edit],
  );

  const checkConnection = useCallback((src: string, dst: string) => canConnect(tree, src, dst), [tree]);

  const onConnect = useCallback(
    (src: string, dst: string) => {
      const check = canConnect(tree, src, dst);
      if (!check.ok) {
        editing?.notify('error', `Can't connect: ${check.reason}`);
        return;
      }
      const end = (port: Guid) => `${nameOf(tree, tree.nodes[port]?.parent ?? port)}.${nameOf(tree, port)}`;
      edit(connectOps(tree, pipeline, src, dst), `Connect ${end(src)} → ${end(dst)}`);
    },
    [edit, editing, pipeline, tree],
  );

  const addOperation = useCallback(
    (item: DropItem, position?: { x: number; y: number }) => {
      let at = position;
      if (!at) {
        const flow = flowRef.current;
        const box = document.querySelector('.graph-canvas')?.getBoundingClientRect();
        at =
          flow && box
            ? flow.screenToFlowPosition({ x: box.left + box.width / 2 - NODE_WIDTH / 2, y: box.top + box.height / 2 - 40 })
            : { x: 0, y: 0 };
      }
      const spot = position ? at : freeSpot(canvasNodes, at);
      let ops: Op[];
      let guid: Guid;
      if (item.kind === 'definition') {
        ops = createInstanceOps(tree, pipeline, item.guid, spot);
        guid = (ops[0] as { guid: Guid }).guid;
      } else {
        const kind = item.kind === 'data' ? item.data : 'input';
        const r = addDataOperationOps(tree, pipeline, kind, spot, item.kind === 'artifact' ? { artifact: item.artifact } : {});
        if (!r) {
          editing?.notify('error', 'This project has no Operation or Port meta type');
          return;
        }
        ({ ops, guid } = r);
      }
      const label =
        item.kind === 'artifact'
          ? `Add an Input reading ${item.artifact.name}`
          : item.kind === 'data'
            ? `Add ${DATA_OPERATIONS[item.data].name}`
            : `Add ${nameOf(tree, item.guid)}`;
      if (edit(ops, label) === null) setSelectNodes([guid]);
    },
    [canvasNodes, edit, editing, pipeline, tree],
  );

  const deleteSelection = useCallback(() => {
    const ops = deleteOps(tree, selection.nodes, selection.edges);
    if (ops.length === 0) return;
    const n = selection.nodes.length;
    edit(ops, n > 0 ? (n > 1 ? `Delete ${n} operations` : `Delete ${nameOf(tree, selection.nodes[0]!)}`) : 'Delete connection');
  }, [edit, selection, tree]);

  const copy = useCallback(() => {
    if (selection.nodes.length === 0) return;
    clipboard = { pipeline, nodes: selection.nodes, pastes: 0 };
    editing?.notify('info', `Copied ${selection.nodes.length} operation${selection.nodes.length > 1 ? 's' : ''}`);
  }, [editing, pipeline, selection.nodes]);

  const paste = useCallback(() => {
    if (!clipboard) return;
    const live = clipboard.nodes.filter((g) => tree.nodes[g]);
    if (live.length === 0) {
      editing?.notify('error', 'Cannot paste: the copied operations no longer exist');
      return;
    }
    clipboard.pastes++;
    const d = 40 * clipboard.pastes;
    const { ops, created } = pasteOps(tree, pipeline, live, { x: d, y: d });
    if (edit(ops, 'Paste') === null) setSelectNodes(created);
  }, [edit, editing, pipeline, tree]);

  const layout = useCallback(() => {
    edit(positionOps(autoLayout(graph)), 'Auto layout');
    setTimeout(() => void flowRef.current?.fitView({ padding: 0.1, maxZoom: 1.1, duration: 300 }), 50);
  }, [edit, graph]);

  const fit = useCallback(() => void flowRef.current?.fitView({ padding: 0.1, maxZoom: 1.1, duration: 300 }), []);

  useEditorKeys({
    undo: editing ? editing.undo : null,
    redo: editing ? editing.redo : null,
    copy: selection.nodes.length > 0 ? copy : null,
    paste: !readOnly ? paste : null,
    deleteSelection: readOnly ? null : deleteSelection,
    fit,
  });

  const selectedNode = selection.nodes.length === 1 ? selection.nodes[0]! : null;

  // The inspector floats over the canvas's right side: a selected node it
  // would cover is panned into the part still in sight (graph/reveal).
  useEffect(() => {
    if (side || !selectedNode) return;
    const frame = requestAnimationFrame(() => {
      const flow = flowRef.current;
      const canvasEl = document.querySelector('.pipeline-editor .graph-canvas');
      const nodeEl = document.querySelector(`.react-flow__node[data-id="${CSS.escape(selectedNode)}"]`);
      if (!flow || !canvasEl || !nodeEl) return;
      const inspectorEl = document.querySelector('[data-testid="inspector"]');
      const shift = revealShift(nodeEl.getBoundingClientRect(), visibleArea(canvasEl.getBoundingClientRect(), inspectorEl?.getBoundingClientRect() ?? null));
      if (!shift) return;
      const vp = flow.getViewport();
      void flow.setViewport({ x: vp.x + shift.dx, y: vp.y + shift.dy, zoom: vp.zoom }, { duration: 250 });
    });
    return () => cancelAnimationFrame(frame);
  }, [selectedNode, side]);

  return (
    <div className="pipeline-editor">
      {!readOnly && (
        <Palette definitions={definitions} artifacts={inputs.choices} dropType={DROP_TYPE} onAdd={(item) => addOperation(item)} />
      )}
      <div className="canvas-column">
        <div className="canvas-toolbar">
          <div className="toolbar-group">
            <PipelineTitle
              name={nameOf(tree, pipeline)}
              onRename={
                readOnly
                  ? null
                  : (name) => edit([{ op: 'set_attr', node: pipeline, name: 'name', value: name }], 'Rename pipeline')
              }
            />
            {!side && (
              <span className="muted small counts">
                {graph.nodes.length} operation{graph.nodes.length === 1 ? '' : 's'} · {graph.edges.length} connection
                {graph.edges.length === 1 ? '' : 's'}
                {selection.nodes.length + selection.edges.length > 1 &&
                  ` · ${selection.nodes.length + selection.edges.length} selected`}
              </span>
            )}
          </div>
          <div className="toolbar-group">
            <CanvasTools editing={editing} readOnly={readOnly} onLayout={layout} layoutTitle="Arrange the graph in layers" onFit={fit} />
            {!side && <Shortcuts readOnly={readOnly} />}
            {toolbar && <span className="toolbar-sep" />}
            {toolbar}
          </div>
        </div>
        <div className="canvas-area">
          <GraphCanvas
            nodes={canvasNodes}
            edges={canvasEdges}
            readOnly={readOnly}
            onNodesMoved={onNodesMoved}
            onSelectionChange={onSelectionChange}
            checkConnection={checkConnection}
            onConnect={onConnect}
            onConnectRefused={(reason) => editing?.notify('error', `Can't connect: ${reason}`)}
            onDropItem={(text, pos) => {
              const item = decodeDropItem(text);
              if (item) addOperation(item, pos);
            }}
            dropType={DROP_TYPE}
            onInit={(f) => (flowRef.current = f)}
            selectNodes={selectNodes}
          >
            {graph.nodes.length === 0 && (
              <div className="canvas-empty">
                <h3>This pipeline is empty</h3>
                <p>
                  {readOnly
                    ? 'It had no operations at this point.'
                    : 'Drag an operation from the palette on the left, or click its + button.'}
                </p>
              </div>
            )}
          </GraphCanvas>
          {!side && selectedNode && tree.nodes[selectedNode] && (
            <Inspector
              tree={tree}
              pipeline={pipeline}
              node={selectedNode}
              selectionCount={selection.nodes.length + selection.edges.length}
              edit={readOnly ? null : edit}
              operationHref={operationHref}
              inputChoices={inputs.choices}
              artifacts={readOnly ? undefined : artifacts}
              onUploaded={inputs.refresh}
              backends={backends}
            />
          )}
        </div>
      </div>
      {side}
    </div>
  );
}

function PipelineTitle({ name, onRename }: { name: string; onRename: ((name: string) => void) | null }) {
  const [text, setText] = useState(name);
  useEffect(() => setText(name), [name]);
  if (!onRename) return <strong className="pipeline-title">{name}</strong>;
  const commit = () => {
    const t = text.trim();
    if (t && t !== name) onRename(t);
    else setText(name);
  };
  return (
    <input
      className="pipeline-title"
      aria-label="Pipeline name"
      value={text}
      size={Math.max(8, text.length + 1)}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        if (e.key === 'Escape') {
          setText(name);
          (e.target as HTMLInputElement).blur();
        }
      }}
    />
  );
}

function Shortcuts({ readOnly }: { readOnly: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="shortcuts-wrap">
      <button
        type="button"
        className="tool"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        onBlur={() => setOpen(false)}
        title="Keyboard shortcuts"
      >
        ⌨ Shortcuts
      </button>
      {open && (
        <div className="shortcuts-pop" role="dialog" aria-label="Keyboard shortcuts">
          <ul className="shortcuts">
            {!readOnly && (
              <>
                <li>
                  <kbd>Ctrl</kbd>+<kbd>Z</kbd> undo · <kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>Z</kbd> redo
                </li>
                <li>
                  <kbd>Del</kbd> delete the selection
                </li>
                <li>
                  <kbd>Ctrl</kbd>+<kbd>C</kbd>, <kbd>Ctrl</kbd>+<kbd>V</kbd> copy, paste operations
                </li>
                <li>Drag from an output to an input to connect</li>
              </>
            )}
            <li>
              <kbd>F</kbd> fit the graph to the screen
            </li>
            <li>
              <kbd>Shift</kbd>+drag select an area · <kbd>Ctrl</kbd>+click add to the selection
            </li>
          </ul>
        </div>
      )}
    </div>
  );
}
