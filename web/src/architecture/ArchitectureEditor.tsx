// The architecture editor: the library's layers (palette), the graph of an
// Architecture node's layers (GraphCanvas, as pipelines), a floating inspector
// with typed parameter forms, and the analysis beside it — shapes on every
// edge, errors on their nodes, the summary, the problems and the generated
// code. Edits are patches through `editing` (the same sync session as the
// pipeline editor: undo/redo, collaboration, presence); every new tree (a
// local edit or a collaborator's) is analysed again, one request at a time.
import type { Edge, ReactFlowInstance } from '@xyflow/react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { KilnClient } from '@kiln/client';
import { canConnect, type Guid, type JsonValue, type Op, type Tree } from '../model';
import { CanvasTools } from '../graph/CanvasTools';
import { GraphCanvas, type CanvasEdge, type CanvasNode } from '../graph/GraphCanvas';
import { autoLayout, freeSpot, sameNodeData, useEditorKeys } from '../graph/editorKit';
import { revealShift, visibleArea } from '../graph/reveal';
import { NODE_WIDTH, verticalNodeHeight, type PortFlowNode, type PortNodeData, type RemoteMark } from '../graph/PortNode';
import type { Editing } from '../pipeline/PipelineEditor';
import { connectOps, deleteOps, nameOf, pasteOps, positionOps } from '../pipeline/model';
import { Analyzer, edgeShape, errorsByNode, formatCount, formatShape, summaryRows, type Analysis } from './analysis';
import { analyze, loadLibrary } from './api';
import { ArchInspector } from './ArchInspector';
import { ArchPalette, ARCH_DROP_TYPE, decodePaletteItem, type PaletteItem } from './ArchPalette';
import { AnalysisPanel } from './AnalysisPanel';
import { typeByName, type Library } from './catalog';
import {
  addBlockOps,
  addLayerAfterOps,
  addLayerOps,
  architectureGraph,
  architectures,
  pasteName,
  staleBlockOps,
  usersOf,
  type LayerNode,
  type NamedNode,
} from './model';
import { blockDocument, toDocument } from './toDocument';
import { CopyDialog } from './CopyDialog';
import './architecture.css';

export interface ArchitectureEditorProps {
  readonly client: KilnClient;
  readonly tree: Tree;
  readonly arch: Guid;
  readonly editing: Editing | null;
  readonly remote?: ReadonlyMap<Guid, RemoteMark[]>;
  readonly archHref: (arch: Guid) => string;
  /** Extra toolbar content (Import…, read-only banner…). */
  readonly toolbar?: ReactNode;
  /** The project, for "Copy to project…" (absent: no copying). */
  readonly project?: string;
}

const NO_REMOTE: readonly RemoteMark[] = [];

// The in-app clipboard of layers (pasting into another architecture works too).
let clipboard: { nodes: Guid[]; pastes: number } | null = null;

type Result = { doc: string; analysis: Analysis } | { doc: string; error: string };

/** The library description, loaded once per client (api.ts caches it). */
function useLibrary(client: KilnClient): { lib: Library | null; error: string | null } {
  const [state, setState] = useState<{ lib: Library | null; error: string | null }>({ lib: null, error: null });
  useEffect(() => {
    let live = true;
    loadLibrary(client).then(
      (lib) => live && setState({ lib, error: null }),
      (e: unknown) => live && setState({ lib: null, error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [client]);
  return state;
}

/** The analysis of the current document: the latest answer, and whether it is for this document. */
function useAnalysis(client: KilnClient, docKey: string, doc: unknown) {
  const [result, setResult] = useState<Result | null>(null);
  // Made in an effect (not a memo) so StrictMode's unmount/remount in
  // development gets a live one, not the closed first. Layout effects, both:
  // the request goes out as soon as the new tree is committed, before the
  // canvas's own effects (React Flow's store updates) and the paint.
  const analyzer = useRef<Analyzer | null>(null);
  useLayoutEffect(() => {
    const a = new Analyzer((d, signal) => analyze(client, d, signal), setResult);
    analyzer.current = a;
    return () => {
      a.close();
      analyzer.current = null;
    };
  }, [client]);
  useLayoutEffect(() => {
    analyzer.current?.request(doc as Parameters<Analyzer['request']>[0], docKey);
    // docKey stands for doc: a new tree with the same document sends nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, docKey]);
  const last = useRef<Analysis | null>(null);
  if (result && 'analysis' in result) last.current = result.analysis;
  return {
    analysis: last.current,
    failure: result && 'error' in result ? result.error : null,
    stale: result === null || result.doc !== docKey,
  };
}

/**
 * The analyses of expanded blocks' architectures, run with the shapes their
 * ports receive (the main analysis does not report a block's inner layers).
 * Keyed by document, so an unchanged block is not analysed again.
 */
function useBlockAnalyses(
  client: KilnClient,
  tree: Tree,
  blocks: readonly LayerNode[],
  analysis: Analysis | null,
  lib: Library | null,
): Map<Guid, Analysis> {
  const [cache, setCache] = useState<ReadonlyMap<string, Analysis>>(new Map());
  const docs = useMemo(() => {
    const out = new Map<Guid, { key: string; doc: ReturnType<typeof blockDocument> }>();
    for (const b of blocks) {
      const inputs = analysis?.nodes[b.id]?.inputs;
      if (!b.block || !tree.nodes[b.block] || !inputs) continue;
      const doc = blockDocument(tree, b.block, inputs as Record<string, JsonValue>, lib);
      out.set(b.id, { key: JSON.stringify(doc), doc });
    }
    return out;
  }, [analysis, blocks, lib, tree]);
  useEffect(() => {
    const abort = new AbortController();
    for (const { key, doc } of docs.values()) {
      if (cache.has(key)) continue;
      analyze(client, doc, abort.signal).then(
        (a) => setCache((c) => new Map(c).set(key, a)),
        () => undefined, // the block's lines show without shapes
      );
    }
    return () => abort.abort();
  }, [cache, client, docs]);
  return useMemo(() => {
    const out = new Map<Guid, Analysis>();
    for (const [id, { key }] of docs) {
      const a = cache.get(key);
      if (a) out.set(id, a);
    }
    return out;
  }, [cache, docs]);
}

export function ArchitectureEditor({ client, tree, arch, editing, remote, archHref, toolbar, project }: ArchitectureEditorProps) {
  const graph = useMemo(() => architectureGraph(tree, arch), [tree, arch]);
  const { lib, error: libError } = useLibrary(client);
  const [copying, setCopying] = useState(false);
  const doc = useMemo(() => toDocument(tree, arch, lib), [tree, arch, lib]);
  const docKey = useMemo(() => JSON.stringify(doc), [doc]);
  const { analysis, failure, stale } = useAnalysis(client, docKey, doc);
  const errors = useMemo(() => errorsByNode(analysis), [analysis]);
  const [selection, setSelection] = useState<{ nodes: Guid[]; edges: Guid[] }>({ nodes: [], edges: [] });
  const [selectNodes, setSelectNodes] = useState<Guid[] | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<Guid>>(new Set());
  const flowRef = useRef<ReactFlowInstance<PortFlowNode, Edge> | null>(null);
  const readOnly = editing === null;

  const edit = useCallback(
    (ops: readonly Op[], label: string) => (editing ? editing.edit(ops, label) : 'read-only'),
    [editing],
  );

  // Blocks follow their architecture's Inputs and Outputs (docs/libraries.md).
  // One attempt per distinct fix, so a refused patch does not loop.
  const tried = useRef('');
  useEffect(() => {
    if (!editing) return;
    const ops = staleBlockOps(tree, arch);
    const key = JSON.stringify(ops.map((o) => (o.op === 'create' ? { ...o, guid: '' } : o)));
    if (ops.length === 0 || key === tried.current) return;
    tried.current = key;
    editing.edit(ops, 'Update block ports');
  }, [editing, tree, arch]);

  const expandedBlocks = useMemo(() => graph.nodes.filter((n) => n.type === 'Block' && expanded.has(n.id)), [graph, expanded]);
  const blockAnalyses = useBlockAnalyses(client, tree, expandedBlocks, analysis, lib);

  /** An expanded block's inner layers, one line each: "conv: Conv2d → [N, 8, 28, 28]". */
  const blockLines = useCallback(
    (n: LayerNode): string[] | undefined => {
      if (n.type !== 'Block' || !expanded.has(n.id) || !n.block) return undefined;
      const inner = architectureGraph(tree, n.block);
      const a = blockAnalyses.get(n.id);
      return inner.nodes.map((x) => {
        const out = Object.values(a?.nodes[x.id]?.outputs ?? {})[0];
        return `${x.name}: ${x.type}${out ? ` → ${formatShape(out)}` : ''}`;
      });
    },
    [blockAnalyses, expanded, tree],
  );

  const fallback = useMemo(
    () => (graph.nodes.some((n) => n.position === null) ? autoLayout(graph, true) : new Map<Guid, { x: number; y: number }>()),
    [graph],
  );

  const dataCache = useRef(new Map<Guid, PortNodeData>());
  const canvasNodes: CanvasNode[] = useMemo(() => {
    const before = dataCache.current;
    const after = new Map<Guid, PortNodeData>();
    const nodes = graph.nodes.map((n) => {
      const count = n.params['count'];
      const subtitle =
        n.type === 'Block'
          ? `${n.block && tree.nodes[n.block] ? nameOf(tree, n.block) : 'missing'}${typeof count === 'number' && count !== 1 ? ` ×${count}` : ''}`
          : n.type !== n.name
            ? n.type
            : '';
      const fresh: PortNodeData = {
        title: n.name,
        subtitle,
        inputs: n.inputs.map((p) => ({ id: p.guid, label: p.name, dataType: p.dataType })),
        outputs: n.outputs.map((p) => ({ id: p.guid, label: p.name, dataType: p.dataType })),
        remote: remote?.get(n.id) ?? NO_REMOTE,
        error: errors.get(n.id),
        lines: blockLines(n),
        vertical: true,
      };
      const old = before.get(n.id);
      const data = old && sameNodeData(old, fresh) ? old : fresh;
      after.set(n.id, data);
      return { id: n.id, position: n.position ?? fallback.get(n.id) ?? { x: 0, y: 0 }, data };
    });
    dataCache.current = after;
    return nodes;
  }, [graph, fallback, remote, errors, blockLines, tree]);

  const canvasEdges: CanvasEdge[] = useMemo(
    () =>
      graph.edges.map((e) => {
        const label = edgeShape(analysis, e.source, nameOf(tree, e.sourceHandle));
        return label ? { ...e, label } : e;
      }),
    [graph, analysis, tree],
  );

  const onSelectionChange = useCallback(
    (nodes: string[], edges: string[]) => {
      setSelection({ nodes, edges });
      editing?.select([...nodes, ...edges]);
    },
    [editing],
  );

  const onNodesMoved = useCallback(
    (positions: Map<string, { x: number; y: number }>) => edit(positionOps(positions), positions.size > 1 ? 'Move layers' : 'Move layer'),
    [edit],
  );

  const checkConnection = useCallback((src: string, dst: string) => canConnect(tree, src, dst), [tree]);

  const onConnect = useCallback(
    (src: string, dst: string) => {
      const check = canConnect(tree, src, dst);
      if (!check.ok) return editing?.notify('error', `Can't connect: ${check.reason}`);
      const end = (port: Guid) => `${nameOf(tree, tree.nodes[port]?.parent ?? port)}.${nameOf(tree, port)}`;
      edit(connectOps(tree, arch, src, dst), `Connect ${end(src)} → ${end(dst)}`);
    },
    [arch, edit, editing, tree],
  );

  const centre = useCallback(() => {
    const flow = flowRef.current;
    const box = document.querySelector('.arch-editor .graph-canvas')?.getBoundingClientRect();
    return flow && box
      ? flow.screenToFlowPosition({ x: box.left + box.width / 2 - NODE_WIDTH / 2, y: box.top + box.height / 2 - 40 })
      : { x: 0, y: 0 };
  }, []);

  const add = useCallback(
    (item: PaletteItem, position?: { x: number; y: number }) => {
      const selected = selection.nodes.length === 1 ? canvasNodes.find((n) => n.id === selection.nodes[0]) : undefined;
      // Clicking + with one layer selected chains the new one after it.
      const after = !position && selected && item.kind === 'layer' ? selected : undefined;
      const below = after && { x: after.position.x, y: after.position.y + verticalNodeHeight(after.data.inputs.length, after.data.outputs.length, after.data.lines?.length ?? 0) + 56 };
      const spot = position ?? freeSpot(canvasNodes, below ?? centre());
      let ops: Op[];
      try {
        if (item.kind === 'layer')
          ops = after ? addLayerAfterOps(tree, arch, item.type, after.id, spot) : addLayerOps(tree, arch, item.type, spot);
        else ops = addBlockOps(tree, arch, item.guid, spot);
      } catch (e) {
        editing?.notify('error', e instanceof Error ? e.message : String(e));
        return;
      }
      const guid = (ops[0] as { guid: Guid }).guid;
      const label = item.kind === 'layer' ? `Add ${item.type}` : `Add block ${nameOf(tree, item.guid)}`;
      if (edit(ops, label) === null) setSelectNodes([guid]);
    },
    [arch, canvasNodes, centre, edit, editing, selection.nodes, tree],
  );

  const deleteSelection = useCallback(() => {
    const ops = deleteOps(tree, selection.nodes, selection.edges);
    if (ops.length === 0) return;
    const n = selection.nodes.length;
    edit(ops, n > 0 ? (n > 1 ? `Delete ${n} layers` : `Delete ${nameOf(tree, selection.nodes[0]!)}`) : 'Delete connection');
  }, [edit, selection, tree]);

  const copy = useCallback(() => {
    clipboard = { nodes: selection.nodes, pastes: 0 };
    editing?.notify('info', `Copied ${selection.nodes.length} layer${selection.nodes.length > 1 ? 's' : ''}`);
  }, [editing, selection.nodes]);

  const paste = useCallback(() => {
    if (!clipboard) return;
    const live = clipboard.nodes.filter((g) => tree.nodes[g]);
    if (live.length === 0) return editing?.notify('error', 'Cannot paste: the copied layers no longer exist');
    clipboard.pastes++;
    const d = 40 * clipboard.pastes;
    const { ops, created } = pasteOps(tree, arch, live, { x: d, y: d }, undefined, pasteName);
    if (edit(ops, 'Paste') === null) setSelectNodes(created);
  }, [arch, edit, editing, tree]);

  const fit = useCallback(() => void flowRef.current?.fitView({ padding: 0.1, maxZoom: 1.1, duration: 300 }), []);
  const layout = useCallback(() => {
    const lines = new Map(canvasNodes.map((n) => [n.id, n.data.lines?.length ?? 0]));
    edit(positionOps(autoLayout({ nodes: graph.nodes.map((n) => ({ ...n, lines: lines.get(n.id) ?? 0 })), edges: graph.edges }, true)), 'Auto layout');
    setTimeout(fit, 50);
  }, [canvasNodes, edit, fit, graph]);

  // The first layers to arrive (opening an empty architecture someone else
  // fills, an import) are brought into view; later ones are not, so the view
  // does not jump while the user works.
  const hadNodes = useRef(graph.nodes.length > 0);
  useEffect(() => {
    if (hadNodes.current || graph.nodes.length === 0) return;
    hadNodes.current = true;
    const t = setTimeout(fit, 80);
    return () => clearTimeout(t);
  }, [fit, graph.nodes.length]);

  useEditorKeys({
    undo: editing ? editing.undo : null,
    redo: editing ? editing.redo : null,
    copy: selection.nodes.length > 0 ? copy : null,
    paste: readOnly ? null : paste,
    deleteSelection: readOnly ? null : deleteSelection,
    fit,
  });

  const selectedNode = selection.nodes.length === 1 ? graph.nodes.find((n) => n.id === selection.nodes[0]) : undefined;

  // The inspector floats over the canvas's right side: a selected layer it
  // would cover is panned into the part still in sight (as in pipelines).
  const selectedId = selectedNode?.id;
  useEffect(() => {
    if (!selectedId) return;
    const frame = requestAnimationFrame(() => {
      const flow = flowRef.current;
      const canvasEl = document.querySelector('.arch-editor .graph-canvas');
      const nodeEl = document.querySelector(`.react-flow__node[data-id="${CSS.escape(selectedId)}"]`);
      if (!flow || !canvasEl || !nodeEl) return;
      const inspectorEl = document.querySelector('.arch-editor [data-testid="inspector"]');
      const shift = revealShift(
        nodeEl.getBoundingClientRect(),
        visibleArea(canvasEl.getBoundingClientRect(), inspectorEl?.getBoundingClientRect() ?? null),
      );
      if (!shift) return;
      const vp = flow.getViewport();
      void flow.setViewport({ x: vp.x + shift.dx, y: vp.y + shift.dy, zoom: vp.zoom }, { duration: 250 });
    });
    return () => cancelAnimationFrame(frame);
  }, [selectedId]);
  const rows = useMemo(() => summaryRows(graph.nodes, graph.edges, analysis), [graph, analysis]);
  const names = useMemo(() => {
    const m = new Map<string, string>();
    for (const a of Object.values(doc.architectures)) for (const n of a.nodes) m.set(n.id, n.name ?? n.id);
    return m;
  }, [doc]);
  // Blocks offered: the other architectures that do not use this one. The
  // same array while they stay the same, so the (memoized) palette does not
  // re-render on every edit.
  const lastBlocks = useRef<readonly NamedNode[]>([]);
  const blocks = useMemo(() => {
    const users = usersOf(tree, arch);
    const next = architectures(tree).filter((a) => !users.has(a.guid));
    const prev = lastBlocks.current;
    if (next.length === prev.length && next.every((a, i) => a.guid === prev[i]!.guid && a.name === prev[i]!.name)) return prev;
    return (lastBlocks.current = next);
  }, [tree, arch]);
  // A stable callback for the palette: `add` changes with the tree and the selection.
  const addRef = useRef(add);
  addRef.current = add;
  const onPaletteAdd = useCallback((item: PaletteItem) => addRef.current(item), []);

  return (
    <div className="pipeline-editor arch-editor">
      {!readOnly && <ArchPalette types={lib?.types ?? null} loadError={libError} blocks={blocks} onAdd={onPaletteAdd} />}
      <div className="canvas-column">
        <div className="canvas-toolbar">
          <div className="toolbar-group">
            <ArchTitle
              name={nameOf(tree, arch)}
              onRename={readOnly ? null : (name) => edit([{ op: 'set_attr', node: arch, name: 'name', value: name }], 'Rename architecture')}
            />
            <span className="muted small counts">
              {graph.nodes.length} layer{graph.nodes.length === 1 ? '' : 's'}
              {typeof analysis?.totals?.parameters === 'number' && ` · ${formatCount(analysis.totals.parameters)} parameters`}
            </span>
            {project && lib && (
              <button type="button" className="tool" onClick={() => setCopying(true)} title="Copy this architecture into another project" data-testid="copy-architecture">
                Copy to project…
              </button>
            )}
          </div>
          <div className="toolbar-group">
            <CanvasTools editing={editing} readOnly={readOnly} onLayout={layout} layoutTitle="Arrange the layers" onFit={fit} />
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
              const item = decodePaletteItem(text);
              if (item) add(item, pos);
            }}
            dropType={ARCH_DROP_TYPE}
            onInit={(f) => (flowRef.current = f)}
            selectNodes={selectNodes}
          >
            {graph.nodes.length === 0 && (
              <div className="canvas-empty">
                <h3>This architecture is empty</h3>
                <p>{readOnly ? 'It had no layers at this point.' : 'Start with an Input (structure), then add layers: drag them from the palette, or click + (it connects to the selected layer).'}</p>
              </div>
            )}
          </GraphCanvas>
          {selectedNode && (
            <ArchInspector
              key={selectedNode.id}
              tree={tree}
              node={selectedNode}
              type={typeByName(lib, selectedNode.type)}
              analysis={analysis?.nodes[selectedNode.id]}
              error={errors.get(selectedNode.id)}
              edit={readOnly ? null : edit}
              expanded={expanded.has(selectedNode.id)}
              onToggleExpand={() =>
                setExpanded((s) => {
                  const n = new Set(s);
                  if (n.has(selectedNode.id)) n.delete(selectedNode.id);
                  else n.add(selectedNode.id);
                  return n;
                })
              }
              blockHref={archHref}
            />
          )}
        </div>
      </div>
      <AnalysisPanel
        analysis={analysis}
        failure={failure}
        stale={stale}
        rows={rows}
        names={names}
        fileName={`${doc.main}.py`}
        onSelectNode={(id) => graph.nodes.some((n) => n.id === id) && setSelectNodes([id])}
      />
      {copying && project && <CopyDialog client={client} project={project} doc={doc} onClose={() => setCopying(false)} />}
    </div>
  );
}

function ArchTitle({ name, onRename }: { name: string; onRename: ((name: string) => void) | null }) {
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
      aria-label="Architecture name"
      title="The class name in the generated code"
      value={text}
      size={Math.max(8, text.length + 1)}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
    />
  );
}
