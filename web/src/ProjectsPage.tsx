// The project list: loads GET /api/v1/projects and shows loading, error (with
// retry), empty and list states, plus a form that creates a project.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, type KilnClient, type Project } from './api';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly projects: readonly Project[] };

export function ProjectsPage({ client }: { client: KilnClient }) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    // Abort on unmount/reload so a slow answer never overwrites a newer one.
    const abort = new AbortController();
    setLoad({ kind: 'loading' });
    client.listProjects(abort.signal).then(
      (projects) => setLoad({ kind: 'ready', projects }),
      (e: unknown) => {
        if (!abort.signal.aborted) setLoad({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, reloads]);

  return (
    <section className="projects" aria-labelledby="projects-title">
      <div className="section-head">
        <h2 id="projects-title">Projects</h2>
        <button type="button" className="secondary" onClick={reload} disabled={load.kind === 'loading'}>
          Refresh
        </button>
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
      {load.kind === 'ready' && load.projects.length === 0 && (
        <p className="state empty">No projects yet. Create the first one below.</p>
      )}
      {load.kind === 'ready' && load.projects.length > 0 && (
        <ul className="project-list">
          {load.projects.map((p) => (
            <li key={p.name}>
              <a href={`#/projects/${encodeURIComponent(p.name)}`}>{p.name}</a>
              {p.description ? <span className="description">{p.description}</span> : null}
            </li>
          ))}
        </ul>
      )}
      <CreateProjectForm client={client} onCreated={reload} />
    </section>
  );
}

function CreateProjectForm({ client, onCreated }: { client: KilnClient; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    setBusy(true);
    setError(null);
    try {
      await client.createProject({ name: trimmed });
      setName('');
      onCreated();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="create-project" onSubmit={submit}>
      <label htmlFor="new-project">New project</label>
      <input
        id="new-project"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="e.g. digits-classifier"
        disabled={busy}
      />
      <button type="submit" disabled={busy || name.trim() === ''}>
        {busy ? 'Creating…' : 'Create'}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.status ? `${e.message} (${e.status} ${e.code})` : e.message;
  return e instanceof Error ? e.message : String(e);
}
