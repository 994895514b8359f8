// The project list: loads GET /api/v1/projects and shows loading, error (with
// retry), empty and list states; creates a project (name + description) and
// deletes one after a confirmation; forks one (a new project whose main
// starts from a commit of another: the head of main, or any ref typed in);
// exports one as an archive file and imports an archive as a new project
// (project/ProjectArchive.tsx).
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { KilnClient, Project } from '@kiln/client';
import { navigate, projectHref } from './router';
import { importSummary } from './project/archive';
import { ExportProjectButton, ImportProjectButton, ImportProjectDialog } from './project/ProjectArchive';
import { projectNameProblem } from './project/projectName';
import { ProjectNameField } from './project/ProjectNameField';
import { Dialog } from './ui/Dialog';
import { describeError, timeAgo } from './ui/format';
import { Toast, type ToastMessage } from './ui/Toast';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly projects: readonly Project[] };

export function ProjectsPage({ client }: { client: KilnClient }) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project | null>(null);
  const [forking, setForking] = useState<Project | null>(null);
  const [importing, setImporting] = useState<File | null>(null);
  /** The project an import just made: its card is marked until the next import. */
  const [imported, setImported] = useState<string | null>(null);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const notify = useCallback((kind: ToastMessage['kind'], text: string) => setToast({ id: Date.now(), kind, text }), []);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    // Abort on unmount/reload so a slow answer never overwrites a newer one.
    const abort = new AbortController();
    client.listProjects(abort.signal).then(
      (projects) => setLoad({ kind: 'ready', projects: [...projects].sort((a, b) => a.name.localeCompare(b.name)) }),
      (e: unknown) => {
        if (!abort.signal.aborted) setLoad({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, reloads]);

  const empty = load.kind === 'ready' && load.projects.length === 0;

  return (
    <section className="projects page" aria-labelledby="projects-title">
      <div className="page-head">
        <div>
          <h1 id="projects-title">Projects</h1>
          <p className="muted">Pipelines, operations and their history, shared with your team.</p>
        </div>
        {!empty && (
          <div className="page-actions">
            <ImportProjectButton onPick={setImporting} />
            <button type="button" onClick={() => setCreating(true)} data-testid="new-project">
              New project
            </button>
          </div>
        )}
      </div>
      {load.kind === 'loading' && (
        <p className="state" role="status">
          Loading projects…
        </p>
      )}
      {load.kind === 'error' && (
        <div className="state error" role="alert">
          <p>Could not load projects: {load.message}</p>
          <button type="button" onClick={reload}>
            Try again
          </button>
        </div>
      )}
      {empty && !creating && (
        <div className="empty-state">
          <div className="empty-icon" aria-hidden="true">
            ◆
          </div>
          <h2>No projects yet</h2>
          <p className="muted">
            A project holds pipelines of Python operations, their versions and their runs. Create one to start
            drawing your first pipeline.
          </p>
          <div className="page-actions">
            <button type="button" onClick={() => setCreating(true)} data-testid="new-project">
              Create your first project
            </button>
            <ImportProjectButton onPick={setImporting} />
          </div>
        </div>
      )}
      {creating && (
        <CreateProjectForm
          client={client}
          onCancel={() => setCreating(false)}
          onCreated={(name) => {
            setCreating(false);
            navigate(projectHref(name, { kind: 'home' }));
          }}
        />
      )}
      {load.kind === 'ready' && load.projects.length > 0 && (
        <ul className="project-grid">
          {load.projects.map((p) => (
            <li
              key={p.name}
              className={`project-card${p.name === imported ? ' just-imported' : ''}`}
              data-testid={`project-${p.name}`}
            >
              <a className="project-open" href={projectHref(p.name, { kind: 'home' })} data-testid={`open-${p.name}`}>
                <span className="project-name">{p.name}</span>
                <span className="project-description">{p.description || 'No description'}</span>
                {p.created_ms ? <span className="project-meta">Created {timeAgo(p.created_ms)}</span> : null}
              </a>
              <ExportProjectButton client={client} project={p.name} onError={(m) => notify('error', m)} />
              <button
                type="button"
                className="ghost icon fork-button"
                aria-label={`Fork ${p.name}`}
                title={`Fork ${p.name}…`}
                onClick={() => setForking(p)}
                data-testid={`fork-${p.name}`}
              >
                <ForkIcon />
              </button>
              <button
                type="button"
                className="ghost danger icon"
                aria-label={`Delete ${p.name}`}
                title={`Delete ${p.name}`}
                onClick={() => setDeleting(p)}
              >
                <TrashIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      {forking && (
        <ForkProjectDialog
          client={client}
          source={forking}
          taken={load.kind === 'ready' ? load.projects.map((p) => p.name) : []}
          onClose={() => setForking(null)}
          onForked={(name) => {
            setForking(null);
            navigate(projectHref(name, { kind: 'home' }));
          }}
        />
      )}
      {importing && (
        <ImportProjectDialog
          client={client}
          file={importing}
          taken={load.kind === 'ready' ? load.projects.map((p) => p.name) : []}
          onClose={() => setImporting(null)}
          onImported={(r) => {
            setImporting(null);
            setImported(r.name);
            notify('info', importSummary(r));
            reload();
          }}
        />
      )}
      {deleting && (
        <DeleteProjectDialog
          client={client}
          project={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            reload();
          }}
        />
      )}
      <Toast message={toast} onDismiss={() => setToast(null)} />
    </section>
  );
}

function TrashIcon() {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
      <path
        d="M6 2h4m-7 2h10M4.5 4l.6 9a1 1 0 0 0 1 .9h3.8a1 1 0 0 0 1-.9l.6-9M6.5 6.5v5M9.5 6.5v5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.3"
        strokeLinecap="round"
      />
    </svg>
  );
}

function ForkIcon() {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
      <path
        d="M5 3.5a1.5 1.5 0 1 1-3 0 1.5 1.5 0 0 1 3 0Zm9 0a1.5 1.5 0 1 1-3 0 1.5 1.5 0 0 1 3 0ZM9.5 12.5a1.5 1.5 0 1 1-3 0 1.5 1.5 0 0 1 3 0ZM3.5 5v1.5a2 2 0 0 0 2 2h5a2 2 0 0 0 2-2V5M8 8.5V11"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.3"
        strokeLinecap="round"
      />
    </svg>
  );
}

/** A free name for a fork of `source`: source-fork, source-fork-2, … */
export function forkName(source: string, taken: readonly string[]): string {
  const base = `${source}-fork`.slice(0, 58);
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

function ForkProjectDialog({
  client,
  source,
  taken,
  onClose,
  onForked,
}: {
  client: KilnClient;
  source: Project;
  taken: readonly string[];
  onClose: () => void;
  onForked: (name: string) => void;
}) {
  const [name, setName] = useState(() => forkName(source.name, taken));
  const [ref, setRef] = useState('main');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const trimmed = name.trim();
  const nameProblem = projectNameProblem(trimmed, taken);
  async function fork(e?: FormEvent) {
    e?.preventDefault();
    if (!trimmed || nameProblem || busy) return;
    setBusy(true);
    setError(null);
    try {
      await client.createProject({
        name: trimmed,
        ...(source.description ? { description: source.description } : {}),
        from: { project: source.name, ref: ref.trim() || 'main' },
      });
      onForked(trimmed);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }
  return (
    <Dialog
      title={`Fork “${source.name}”`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            form="fork-form"
            disabled={busy || trimmed === '' || nameProblem !== null}
            data-testid="fork-submit"
          >
            {busy ? 'Forking…' : 'Fork project'}
          </button>
        </>
      }
    >
      <form id="fork-form" onSubmit={fork} className="fork-form">
        <p className="muted">
          A new project whose main branch starts from a copy of a commit of {source.name}. Later changes to
          either project do not affect the other.
        </p>
        <ProjectNameField
          label="New project name"
          inputName="fork-name"
          value={name}
          onChange={setName}
          problem={nameProblem}
          disabled={busy}
        />
        <label className="field">
          <span>
            From <span className="muted">(a branch, tag or commit digest)</span>
          </span>
          <input
            name="fork-ref"
            value={ref}
            onChange={(e) => setRef(e.target.value)}
            placeholder="main"
            disabled={busy}
            spellCheck={false}
          />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}

function CreateProjectForm({
  client,
  onCreated,
  onCancel,
}: {
  client: KilnClient;
  onCreated: (name: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const trimmed = name.trim();
  // A taken name is left to the server, whose answer names the project.
  const nameProblem = projectNameProblem(trimmed);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!trimmed || nameProblem) return;
    setBusy(true);
    setError(null);
    try {
      const desc = description.trim();
      await client.createProject(desc ? { name: trimmed, description: desc } : { name: trimmed });
      onCreated(trimmed);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <form className="card create-project" onSubmit={submit} aria-label="Create a project">
      <h2>New project</h2>
      <ProjectNameField
        label="Name"
        inputName="name"
        value={name}
        onChange={setName}
        problem={nameProblem}
        disabled={busy}
        placeholder="e.g. protein-folding"
      />
      <label className="field">
        <span>
          Description <span className="muted">(optional)</span>
        </span>
        <input
          name="description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          placeholder="What is this project about?"
          disabled={busy}
        />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="submit" disabled={busy || trimmed === '' || nameProblem !== null}>
          {busy ? 'Creating…' : 'Create project'}
        </button>
      </div>
    </form>
  );
}

function DeleteProjectDialog({
  client,
  project,
  onClose,
  onDeleted,
}: {
  client: KilnClient;
  project: Project;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await client.deleteProject(project.name);
      onDeleted();
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }
  return (
    <Dialog
      title={`Delete “${project.name}”?`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={remove} disabled={busy}>
            {busy ? 'Deleting…' : 'Delete project'}
          </button>
        </>
      }
    >
      <p>Its branches, tags and history will no longer be reachable. This cannot be undone from the editor.</p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
