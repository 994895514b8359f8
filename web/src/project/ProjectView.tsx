// A project: the sidebar (pipelines, architectures, operations, history, executions, artifacts), the
// presence bar (who is here), and the selected view. It owns the SyncSession
// of the branch being edited; a read-only view of an old commit (?at=) reads
// the tree over REST instead.
import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { KilnClient, ProjectDetail } from '@kiln/client';
import { newGuid, type Guid, type Op, type Tree } from '../model';
import { collaborators, remoteSelections, type Collaborator } from '../pipeline/presence';
import { metaByName, nameOf, operationDefinitions, pipelines } from '../pipeline/model';
import { PipelineEditor, type Editing } from '../pipeline/PipelineEditor';
import { navigate, projectHref, type View } from '../router';
import { SyncSession, useSyncState, type SyncState } from '../sync';
import { describeError, initials, shortId } from '../ui/format';
import { Toast, type ToastMessage } from '../ui/Toast';
import { RunButton } from '../executions/RunButton';
import { SweepButton } from '../sweeps/SweepButton';
import { artifactSource } from '../artifacts/source';
import { useBackends, useRunBackend } from '../compute/useBackends';
import { PackagesView } from './PackagesView';
import { architectures, isArchitecture, newArchitectureOps, usesLibrary } from '../architecture/model';
import { addLibrary } from '../architecture/api';

const OperationEditor = lazy(() => import('../operations/OperationEditor'));
// The architecture editor (PyTorch library) and its import dialog: their own chunk.
const ArchitectureEditor = lazy(() => import('../architecture/ArchitectureEditor').then((m) => ({ default: m.ArchitectureEditor })));
const ImportDialog = lazy(() => import('../architecture/ImportDialog').then((m) => ({ default: m.ImportDialog })));
// Views not needed to show a pipeline load on first use: less JavaScript to
// parse before the canvas appears (the executions list brings uPlot).
const HistoryView = lazy(() => import('../history/HistoryView').then((m) => ({ default: m.HistoryView })));
const ExecutionsList = lazy(() => import('../executions/ExecutionsList').then((m) => ({ default: m.ExecutionsList })));
const ArtifactsView = lazy(() => import('../artifacts/ArtifactsView').then((m) => ({ default: m.ArtifactsView })));
const ExecutionView = lazy(() => import('../executions/ExecutionView'));
const LineageView = lazy(() => import('../provenance/LineageView'));
const SweepView = lazy(() => import('../sweeps/SweepView').then((m) => ({ default: m.SweepView })));

export interface ProjectViewProps {
  readonly client: KilnClient;
  readonly project: string;
  readonly view: View;
  readonly branch: string;
  readonly at: string | null;
}

export function ProjectView(props: ProjectViewProps) {
  const { project, branch } = props;
  // One session per (project, branch); closed when either changes.
  const session = useMemo(() => new SyncSession({ project, branch }), [project, branch]);
  useEffect(() => {
    session.start();
    return () => session.close();
  }, [session]);
  return <ProjectShell {...props} session={session} />;
}

function ProjectShell({ client, project, view, branch, at, session }: ProjectViewProps & { session: SyncSession }) {
  const state = useSyncState(session);
  const [detail, setDetail] = useState<ProjectDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [refreshRefs, setRefreshRefs] = useState(0);
  const [snapshot, setSnapshot] = useState<{ at: string; tree: Tree; commit: string } | { at: string; error: string } | null>(
    null,
  );
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const artifacts = useMemo(() => artifactSource(client, project, branch), [client, project, branch]);
  // Where runs and sweeps go (docs/compute.md); the inspector's Resources list them too.
  const backends = useBackends(client);
  const [runBackend, setRunBackend] = useRunBackend(project, backends);
  // "New architecture" / "Import" in a project without the library: the
  // library is added first (a commit), and the action runs when it arrives.
  const [afterLibrary, setAfterLibrary] = useState<'new' | 'import' | null>(null);
  const [importing, setImporting] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    client.getProject(project, abort.signal).then(
      (d) => {
        setDetail(d);
        setLoadError(null);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setLoadError(describeError(e));
      },
    );
    return () => abort.abort();
  }, [client, project, refreshRefs]);

  // Read-only: the tree at a commit.
  useEffect(() => {
    if (!at) {
      setSnapshot(null);
      return;
    }
    const abort = new AbortController();
    client.getTree(project, at, abort.signal).then(
      (r) => setSnapshot({ at, tree: r.tree, commit: r.commit }),
      (e: unknown) => {
        if (!abort.signal.aborted) setSnapshot({ at, error: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, at]);

  useEffect(() => {
    if (state.notice) setToast({ id: state.notice.id, kind: state.notice.kind, text: state.notice.text });
  }, [state.notice]);

  const readOnly = at !== null;
  const tree: Tree | null = readOnly ? (snapshot && 'tree' in snapshot ? snapshot.tree : null) : (state.branch?.visible ?? null);
  const people = useMemo(() => collaborators(state.presence, state.connection), [state.presence, state.connection]);
  const remote = useMemo(() => remoteSelections(people), [people]);

  const editing: Editing | null = useMemo(
    () =>
      readOnly || !state.branch
        ? null
        : {
            edit: (ops, label) => session.edit(ops, label),
            undo: () => session.undo(),
            redo: () => session.redo(),
            canUndo: state.undo.undo.length > 0,
            canRedo: state.undo.redo.length > 0,
            select: (nodes) => session.select(nodes),
            notify: (kind, text) => session.notify(kind, text),
          },
    [readOnly, session, state.branch, state.undo],
  );

  const href = useCallback((v: View) => projectHref(project, v, { branch, at }), [project, branch, at]);

  // The home view opens the first pipeline.
  const pipes = useMemo(() => (tree ? pipelines(tree) : []), [tree]);
  const pipelineNames = useMemo(() => (tree ? new Map(pipes.map((p) => [p.guid, p.name])) : undefined), [tree, pipes]);
  useEffect(() => {
    if (view.kind === 'home' && pipes.length > 0) navigate(href({ kind: 'pipeline', guid: pipes[0]!.guid }));
  }, [view.kind, pipes, href]);

  const notify = (kind: 'error' | 'info', text: string) => setToast({ id: Date.now(), kind, text });

  const createArchitecture = useCallback(() => {
    if (!tree || !editing) return;
    const guid = newGuid();
    if (editing.edit(newArchitectureOps(tree, undefined, guid), 'Add architecture') === null)
      navigate(href({ kind: 'architecture', guid }));
  }, [editing, href, tree]);

  /** Runs `action` now if the project uses the library, else adds it and runs it when the commit arrives. */
  const withLibrary = useCallback(
    (action: 'new' | 'import') => {
      if (!tree || !editing) return;
      if (usesLibrary(tree)) {
        if (action === 'new') createArchitecture();
        else setImporting(true);
        return;
      }
      setAfterLibrary(action);
      addLibrary(client, project, branch).catch((e: unknown) => {
        setAfterLibrary(null);
        notify('error', `Could not add the PyTorch library: ${describeError(e)}`);
      });
    },
    [branch, client, createArchitecture, editing, project, tree],
  );
  useEffect(() => {
    if (!afterLibrary || !tree || !usesLibrary(tree)) return;
    setAfterLibrary(null);
    if (afterLibrary === 'new') createArchitecture();
    else setImporting(true);
  }, [afterLibrary, createArchitecture, tree]);

  if (loadError)
    return (
      <div className="app-main">
        <div className="state error centered" role="alert">
          <p>Could not open project “{project}”: {loadError}</p>
          <a className="button" href="#/">
            Back to projects
          </a>
        </div>
      </div>
    );

  let content;
  if (!readOnly && state.failure && !state.branch && view.kind !== 'history' && view.kind !== 'executions' && view.kind !== 'execution' && view.kind !== 'artifacts' && view.kind !== 'lineage' && view.kind !== 'sweep')
    content = (
      <div className="state error centered" role="alert">
        <p>
          Could not open branch “{branch}”: {state.failure}
        </p>
        <a href={projectHref(project, { kind: 'home' })}>Open main</a> · <a href={href({ kind: 'history' })}>History</a>
      </div>
    );
  else if (readOnly && snapshot && 'error' in snapshot)
    content = (
      <div className="state error centered" role="alert">
        Could not read the project at {shortId(at!)}: {snapshot.error}
      </div>
    );
  else if (!tree && view.kind !== 'history' && view.kind !== 'executions' && view.kind !== 'execution' && view.kind !== 'artifacts' && view.kind !== 'lineage' && view.kind !== 'sweep')
    content = <Loading text={state.status === 'offline' ? 'Connecting to the server…' : 'Loading project…'} />;
  else if (view.kind === 'history')
    content = (
      <Suspense fallback={<Loading text="Loading history…" />}>
        <HistoryView
          client={client}
          project={project}
          branch={branch}
          detail={detail}
          onRefsChanged={() => setRefreshRefs((n) => n + 1)}
          notify={notify}
        />
      </Suspense>
    );
  else if (view.kind === 'executions')
    content = (
      <Suspense fallback={<Loading text="Loading executions…" />}>
        <ExecutionsList client={client} project={project} branch={branch} pipelineNames={pipelineNames} />
      </Suspense>
    );
  else if (view.kind === 'artifacts')
    content = (
      <Suspense fallback={<Loading text="Loading artifacts…" />}>
        <ArtifactsView client={client} project={project} branch={branch} at={at} notify={notify} />
      </Suspense>
    );
  else if (view.kind === 'execution')
    content = (
      <Suspense fallback={<Loading text="Loading execution…" />}>
        <ExecutionView client={client} project={project} branch={branch} id={view.id} session={session} notify={notify} />
      </Suspense>
    );
  else if (view.kind === 'lineage')
    content = (
      <Suspense fallback={<Loading text="Loading the lineage…" />}>
        <LineageView key={`${view.digest}/${view.compare ?? ''}`} client={client} project={project} branch={branch} digest={view.digest} compare={view.compare} />
      </Suspense>
    );
  else if (view.kind === 'sweep')
    content = (
      <Suspense fallback={<Loading text="Loading sweep…" />}>
        <SweepView key={view.id} client={client} project={project} branch={branch} id={view.id} />
      </Suspense>
    );
  else if (view.kind === 'packages' && tree) content = <PackagesView tree={tree} editing={editing} />;
  else if (view.kind === 'operation' && tree)
    content = (
      <Suspense fallback={<Loading text="Loading the code editor…" />}>
        <OperationEditor client={client} project={project} tree={tree} definition={view.guid} editing={editing} />
      </Suspense>
    );
  else if (view.kind === 'architecture' && tree && isArchitecture(tree, view.guid))
    content = (
      <Suspense fallback={<Loading text="Loading the architecture editor…" />}>
        <ArchitectureEditor
          key={view.guid}
          client={client}
          tree={tree}
          arch={view.guid}
          editing={editing}
          remote={remote}
          archHref={(g) => href({ kind: 'architecture', guid: g })}
          project={project}
        />
      </Suspense>
    );
  else if (view.kind === 'architecture' && tree)
    content = (
      <div className="state centered">
        This architecture does not exist {readOnly ? 'at this commit' : 'any more'}.{' '}
        <a href={href({ kind: 'home' })}>Open the project</a>
      </div>
    );
  else if (view.kind === 'pipeline' && tree && tree.nodes[view.guid])
    content = (
      <PipelineEditor
        key={view.guid}
        tree={tree}
        pipeline={view.guid}
        editing={editing}
        remote={remote}
        operationHref={(d) => href({ kind: 'operation', guid: d })}
        artifacts={artifacts}
        backends={backends}
        toolbar={
          readOnly ? null : (
            <>
              <RunButton
                client={client}
                project={project}
                branch={branch}
                pipeline={view.guid}
                pending={state.branch?.pending.length ?? 0}
                backends={backends}
                backend={runBackend}
                onBackend={setRunBackend}
                notify={notify}
                onStarted={(id) => navigate(href({ kind: 'execution', id }))}
              />
              <SweepButton
                client={client}
                project={project}
                branch={branch}
                tree={tree}
                pipeline={view.guid}
                pending={state.branch?.pending.length ?? 0}
                backends={backends}
                backend={runBackend}
                onBackend={setRunBackend}
                onStarted={(id) => navigate(href({ kind: 'sweep', id }))}
              />
            </>
          )
        }
      />
    );
  else if (view.kind === 'pipeline' && tree)
    content = (
      <div className="state centered">
        This pipeline does not exist {readOnly ? 'at this commit' : 'any more'}.{' '}
        <a href={href({ kind: 'home' })}>Open the project</a>
      </div>
    );
  else if (tree)
    content = <EmptyProject tree={tree} editing={editing} onOpen={(g) => navigate(href({ kind: 'pipeline', guid: g }))} />;

  return (
    <div className="project-view">
      <ProjectBar
        project={project}
        detail={detail}
        branch={branch}
        at={at}
        state={state}
        people={people}
        view={view}
      />
      <div className="project-body">
        <Sidebar
          tree={tree}
          view={view}
          href={href}
          editing={editing}
          onNewArchitecture={() => withLibrary('new')}
          onImportArchitecture={() => withLibrary('import')}
          addingLibrary={afterLibrary !== null}
        />
        <main className="project-main">
          {readOnly && (
            <div className="readonly-banner" role="status" data-testid="readonly-banner">
              <span>
                Viewing <strong>{shortId(at!)}</strong> read-only
                {snapshot && 'commit' in snapshot && snapshot.commit && snapshot.commit !== at ? ` (${shortId(snapshot.commit)})` : ''}.
              </span>
              <a href={projectHref(project, { kind: 'history' }, { branch })}>Back to history</a>
              <a href={projectHref(project, view.kind === 'pipeline' || view.kind === 'architecture' ? view : { kind: 'home' }, { branch })}>
                Back to {branch}
              </a>
            </div>
          )}
          {content}
        </main>
      </div>
      {importing && tree && editing && (
        <Suspense fallback={null}>
          <ImportDialog
            client={client}
            tree={tree}
            edit={editing.edit}
            onClose={() => setImporting(false)}
            onImported={(g) => {
              setImporting(false);
              navigate(href({ kind: 'architecture', guid: g }));
            }}
          />
        </Suspense>
      )}
      <Toast message={toast} onDismiss={() => setToast(null)} />
    </div>
  );
}

function Loading({ text }: { text: string }) {
  return (
    <div className="state centered loading" role="status">
      <span className="spinner" aria-hidden="true" /> {text}
    </div>
  );
}

const STATUS_TEXT = {
  'read-only': 'Read-only',
  unavailable: 'Unavailable',
  live: 'Live',
  offline: 'Offline — reconnecting',
  connecting: 'Connecting…',
} as const;

function ProjectBar({
  project,
  detail,
  branch,
  at,
  state,
  people,
  view,
}: {
  project: string;
  detail: ProjectDetail | null;
  branch: string;
  at: string | null;
  state: SyncState;
  people: readonly Collaborator[];
  view: View;
}) {
  const branches = detail?.branches ?? [{ name: branch, commit: '' }];
  const names = branches.some((b) => b.name === branch) ? branches.map((b) => b.name) : [branch, ...branches.map((b) => b.name)];
  const status = at
    ? 'read-only'
    : state.failure && !state.branch
      ? 'unavailable'
      : state.status === 'live'
        ? 'live'
        : state.status === 'offline'
          ? 'offline'
          : 'connecting';
  const pending = state.branch?.pending.length ?? 0;
  return (
    <div className="project-bar">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href="#/">Projects</a>
        <span aria-hidden="true">/</span>
        <strong data-testid="project-name">{project}</strong>
      </nav>
      <label className="branch-select">
        <span className="muted">Branch</span>
        <select
          value={branch}
          onChange={(e) =>
            navigate(
              projectHref(project, view.kind === 'execution' || view.kind === 'sweep' ? { kind: 'executions' } : view, {
                branch: e.target.value,
              }),
            )
          }
          aria-label="Branch"
        >
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <div className="bar-spacer" />
      <span className={`sync-status ${status}`} data-testid="sync-status" title={pending ? `${pending} change(s) not yet saved` : ''}>
        <span className="dot" aria-hidden="true" />
        {STATUS_TEXT[status]}
        {status === 'live' && pending > 0 && ' · saving…'}
      </span>
      <div className="presence" aria-label="People here" data-testid="presence">
        {people.map((p) => (
          <span
            key={p.connection}
            className={`avatar ${p.self ? 'self' : ''}`}
            style={{ background: p.colour }}
            title={p.self ? `${p.label} (you)` : p.label}
            data-testid="avatar"
          >
            {initials(p.label)}
          </span>
        ))}
        {people.length > 0 && (
          <span className="presence-count muted">
            {people.length === 1 ? 'Only you' : `${people.length} here`}
          </span>
        )}
      </div>
    </div>
  );
}

function Sidebar({
  tree,
  view,
  href,
  editing,
  onNewArchitecture,
  onImportArchitecture,
  addingLibrary,
}: {
  tree: Tree | null;
  view: View;
  href: (v: View) => string;
  editing: Editing | null;
  onNewArchitecture: () => void;
  onImportArchitecture: () => void;
  addingLibrary: boolean;
}) {
  // Computed once per tree: the sidebar re-renders on every view and undo-state change too.
  const pipes = useMemo(() => (tree ? pipelines(tree) : []), [tree]);
  const archs = useMemo(() => (tree ? architectures(tree) : []), [tree]);
  const defs = useMemo(() => (tree ? operationDefinitions(tree) : []), [tree]);
  const current = view.kind === 'pipeline' || view.kind === 'operation' || view.kind === 'architecture' ? view.guid : null;
  const addPipeline = () => {
    if (!tree || !editing) return;
    const meta = metaByName(tree, 'Pipeline');
    if (!meta) return editing.notify('error', 'This project has no Pipeline meta type');
    const guid = newGuid();
    const name = uniqueRootName(tree, 'New pipeline');
    if (editing.edit([{ op: 'create', guid, parent: tree.root, base: meta, attrs: { name } }], 'Add pipeline') === null)
      navigate(href({ kind: 'pipeline', guid }));
  };
  const addOperation = () => {
    if (!tree || !editing) return;
    const r = newOperationOps(tree);
    if (!r) return editing.notify('error', 'This project has no Operation meta type');
    if (editing.edit(r.ops, 'Add operation definition') === null) navigate(href({ kind: 'operation', guid: r.guid }));
  };
  return (
    <nav className="sidebar" aria-label="Project">
      <SidebarSection title="Pipelines" onAdd={editing ? addPipeline : undefined} addLabel="New pipeline">
        {pipes.map((p) => (
          <SidebarLink key={p.guid} href={href({ kind: 'pipeline', guid: p.guid })} active={current === p.guid} icon="⎔">
            {p.name}
          </SidebarLink>
        ))}
        {tree && pipes.length === 0 && <li className="sidebar-empty">No pipelines yet</li>}
      </SidebarSection>
      <SidebarSection title="Architectures" onAdd={editing ? onNewArchitecture : undefined} addLabel="New architecture">
        {archs.map((a) => (
          <SidebarLink key={a.guid} href={href({ kind: 'architecture', guid: a.guid })} active={current === a.guid} icon="◫">
            {a.name}
          </SidebarLink>
        ))}
        {tree && archs.length === 0 && (
          <li className="sidebar-empty" data-testid="no-architectures">
            {addingLibrary ? 'Adding the PyTorch library…' : 'No architectures yet'}
          </li>
        )}
        {editing && (
          <li>
            <button type="button" className="link small sidebar-action" onClick={onImportArchitecture} data-testid="import-code">
              Import PyTorch code…
            </button>
          </li>
        )}
      </SidebarSection>
      <SidebarSection title="Operations" onAdd={editing ? addOperation : undefined} addLabel="New operation">
        {defs.map((d) => (
          <SidebarLink key={d.guid} href={href({ kind: 'operation', guid: d.guid })} active={current === d.guid} icon="ƒ">
            {d.name}
          </SidebarLink>
        ))}
        {tree && defs.length === 0 && <li className="sidebar-empty">No operations yet</li>}
      </SidebarSection>
      <SidebarSection title="Project">
        <SidebarLink href={href({ kind: 'history' })} active={view.kind === 'history'} icon="◷">
          History
        </SidebarLink>
        <SidebarLink
          href={href({ kind: 'executions' })}
          active={view.kind === 'executions' || view.kind === 'execution' || view.kind === 'sweep'}
          icon="▷"
        >
          Executions
        </SidebarLink>
        <SidebarLink href={href({ kind: 'artifacts' })} active={view.kind === 'artifacts' || view.kind === 'lineage'} icon="▤">
          Artifacts
        </SidebarLink>
        <SidebarLink href={href({ kind: 'packages' })} active={view.kind === 'packages'} icon="⬡">
          Python packages
        </SidebarLink>
      </SidebarSection>
    </nav>
  );
}

function SidebarSection({
  title,
  children,
  onAdd,
  addLabel,
}: {
  title: string;
  children: ReactNode;
  onAdd?: (() => void) | undefined;
  addLabel?: string;
}) {
  return (
    <div className="sidebar-section">
      <div className="sidebar-title">
        <span>{title}</span>
        {onAdd && (
          <button type="button" className="ghost icon small" onClick={onAdd} aria-label={addLabel} title={addLabel}>
            +
          </button>
        )}
      </div>
      <ul>{children}</ul>
    </div>
  );
}

function SidebarLink({ href, active, icon, children }: { href: string; active: boolean; icon: string; children: ReactNode }) {
  return (
    <li>
      <a href={href} className={active ? 'active' : ''} aria-current={active ? 'page' : undefined}>
        <span className="sidebar-icon" aria-hidden="true">
          {icon}
        </span>
        <span className="sidebar-label">{children}</span>
      </a>
    </li>
  );
}

function EmptyProject({ tree, editing, onOpen }: { tree: Tree; editing: Editing | null; onOpen: (g: Guid) => void }) {
  const create = () => {
    const meta = metaByName(tree, 'Pipeline');
    if (!editing || !meta) return;
    const guid = newGuid();
    if (editing.edit([{ op: 'create', guid, parent: tree.root, base: meta, attrs: { name: 'My pipeline' } }], 'Add pipeline') === null)
      onOpen(guid);
  };
  return (
    <div className="empty-state in-project">
      <div className="empty-icon" aria-hidden="true">
        ⎔
      </div>
      <h2>No pipelines yet</h2>
      <p className="muted">
        A pipeline connects Python operations: data flows from one operation's outputs into the next one's inputs.
        Create a pipeline, then add operation definitions from the sidebar.
      </p>
      {editing && (
        <button type="button" onClick={create} data-testid="create-pipeline">
          Create a pipeline
        </button>
      )}
    </div>
  );
}

function uniqueRootName(tree: Tree, base: string): string {
  const taken = new Set((tree.nodes[tree.root]?.children ?? []).map((c) => nameOf(tree, c)));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}

const TEMPLATE = `import kiln


class MyOperation(kiln.Operation):
    """Describe what this operation does."""

    def __init__(self, factor=2):
        self.factor = factor

    def execute(self, data):
        result = data
        return result
`;

/** A new operation definition in the "Operations" folder (created if missing). */
function newOperationOps(tree: Tree) {
  const opMeta = metaByName(tree, 'Operation');
  const portMeta = metaByName(tree, 'Port');
  const folderMeta = metaByName(tree, 'Folder');
  if (!opMeta || !portMeta) return null;
  const ops: Op[] = [];
  let folder = (tree.nodes[tree.root]?.children ?? []).find((c) => nameOf(tree, c) === 'Operations');
  if (!folder) {
    if (!folderMeta) return null;
    folder = newGuid();
    ops.push({ op: 'create', guid: folder, parent: tree.root, base: folderMeta, attrs: { name: 'Operations' } });
  }
  const guid = newGuid();
  const taken = new Set((tree.nodes[folder]?.children ?? []).map((c) => nameOf(tree, c)));
  let name = 'MyOperation';
  for (let i = 2; taken.has(name); i++) name = `MyOperation${i}`;
  ops.push({
    op: 'create',
    guid,
    parent: folder,
    base: opMeta,
    attrs: { name, code: TEMPLATE.replace('MyOperation', name), factor: 2 },
  });
  ops.push({ op: 'create', guid: newGuid(), parent: guid, base: portMeta, attrs: { name: 'data', direction: 'input', dataType: 'any' } });
  ops.push({
    op: 'create',
    guid: newGuid(),
    parent: guid,
    base: portMeta,
    attrs: { name: 'result', direction: 'output', dataType: 'any' },
  });
  return { guid, ops };
}
