// A project's artifacts: the files its jobs made and the ones people
// uploaded. Lists them (at the branch, or the read-only commit) with where
// each came from, filterable by pipeline and kind, small JSON results shown
// as their value, any of them previewed in an expanded row (Preview: an
// array's image, a model's tensors, a FITS header…); downloads them under their own names, uploads files with
// a progress bar (cancel any time; over the server's limit refused before
// sending), and deletes them after a confirmation; the server refuses to
// delete an artifact the model still uses (422) until told to force it.
// A row can be dragged onto a pipeline's canvas to become an Input. With
// several storage backends, each row says where the artifact lives and can
// copy or move it to another, and the head sets where new ones go.
import { Fragment, useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { ApiError, errorFromResponse, type Artifact, type KilnClient } from '@kiln/client';
import { DROP_TYPE, encodeDropItem } from '../pipeline/data';
import { Preview } from '../preview/Preview';
import { projectHref } from '../router';
import { Dialog } from '../ui/Dialog';
import { saveBlob } from '../ui/saveBlob';
import { dateTime, describeError, shortId, timeAgo } from '../ui/format';
import { downloadName, formatSize, progressFraction, progressText, provenance, shortDigest, uploadName } from './artifacts';
import {
  artifactKey,
  filterArtifacts,
  kindOf,
  kindOptions,
  NO_FILTER,
  pipelineOptions,
  sortArtifacts,
  type ArtifactFilter,
} from './filter';
import { artifactSource } from './source';
import { isAbortError, type UploadProgress } from './upload';
import { InlineValue } from './InlineValue';
import { showsInline } from './value';
import { showsStorage } from './storage';
import { ProjectStorageSetting, StorageActionSelect, StoreBadges, useStorageBackends } from './StorageControls';
import { CompareDialog } from '../provenance/CompareDialog';
import './artifacts.css';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly artifacts: readonly Artifact[] };

interface UploadState {
  readonly id: number;
  readonly name: string;
  readonly progress: UploadProgress;
  readonly error: string | null;
  readonly cancel: () => void;
}

let nextUpload = 1;

/** A server error's own message; other failures as one sentence. */
function message(e: unknown): string {
  return e instanceof ApiError && e.status !== 0 ? e.message : describeError(e);
}

export function ArtifactsView({
  client,
  project,
  branch,
  at,
  notify,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  /** A commit: a read-only view (no upload, no delete). */
  at: string | null;
  notify?: (kind: 'error' | 'info', text: string) => void;
}) {
  const ref = at ?? branch;
  const readOnly = at !== null;
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [tick, setTick] = useState(0);
  const [uploads, setUploads] = useState<readonly UploadState[]>([]);
  const [deleting, setDeleting] = useState<(Artifact & { guid: string }) | null>(null);
  const [filter, setFilter] = useState<ArtifactFilter>(NO_FILTER);
  const [dragging, setDragging] = useState(false);
  const [downloading, setDownloading] = useState<string | null>(null);
  const [comparing, setComparing] = useState<Artifact | null>(null);
  /** The artifact whose preview row is open (artifactKey). */
  const [previewing, setPreviewing] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const backends = useStorageBackends(client);
  const storage = showsStorage(backends);

  useEffect(() => {
    const abort = new AbortController();
    client.listArtifacts(project, ref, abort.signal).then(
      (artifacts) => setLoad({ kind: 'ready', artifacts: sortArtifacts(artifacts) }),
      (e: unknown) => {
        if (!abort.signal.aborted) setLoad({ kind: 'error', message: message(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, ref, tick]);

  // Uploads still running when the view goes away are cancelled.
  const live = useRef<Map<number, () => void>>(new Map());
  useEffect(() => {
    const m = live.current;
    return () => m.forEach((cancel) => cancel());
  }, []);

  const patch = (id: number, f: (u: UploadState) => UploadState) =>
    setUploads((us) => us.map((u) => (u.id === id ? f(u) : u)));
  const drop = (id: number) => setUploads((us) => us.filter((u) => u.id !== id));
  const source = useMemo(() => artifactSource(client, project, branch), [client, project, branch]);
  // Said where files are dropped, so nobody waits for a refusal.
  const [limit, setLimit] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    void source.limit().then((l) => live && setLimit(l));
    return () => {
      live = false;
    };
  }, [source]);

  function start(files: readonly File[]) {
    if (readOnly) return;
    for (const file of files) {
      const id = nextUpload++;
      const name = uploadName(file.name);
      const up = source.upload(file, name, (progress) => patch(id, (u) => ({ ...u, progress })));
      live.current.set(id, up.cancel);
      setUploads((us) => [...us, { id, name, progress: { loaded: 0, total: file.size }, error: null, cancel: up.cancel }]);
      up.done.then(
        () => {
          live.current.delete(id);
          patch(id, (u) => ({ ...u, progress: { loaded: file.size, total: file.size } }));
          notify?.('info', `Uploaded ${name}`);
          // Leave the finished bar a moment so 100% is seen.
          setTimeout(() => drop(id), 1200);
          reload();
        },
        (e: unknown) => {
          live.current.delete(id);
          if (isAbortError(e)) drop(id);
          else patch(id, (u) => ({ ...u, error: message(e) }));
        },
      );
    }
  }

  async function download(a: Artifact) {
    // The server names every download <digest>.bin, and its header beats
    // <a download>: fetch the bytes and save them under the artifact's name.
    setDownloading(artifactKey(a));
    try {
      const res = await fetch(client.artifactUrl(a.digest, project, ref), {
        headers: { ...client.extraHeaders },
        credentials: 'same-origin',
      });
      if (!res.ok) throw errorFromResponse(res.status, res.statusText, await res.text());
      saveBlob(await res.blob(), downloadName(a));
    } catch (e) {
      notify?.('error', `Could not download ${a.name}: ${message(e)}`);
    } finally {
      setDownloading(null);
    }
  }

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    start([...e.dataTransfer.files]);
  };
  const all = load.kind === 'ready' ? load.artifacts : [];
  const artifacts = filterArtifacts(all, filter);
  const pipelineChoices = pipelineOptions(all);
  const kindChoices = kindOptions(all);

  return (
    <div
      className={`page-pane artifacts${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        if (readOnly || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={readOnly ? undefined : onDrop}
    >
      <div className="pane-head">
        <h2>Artifacts</h2>
        <div className="pane-actions">
          {storage && !readOnly && (
            <ProjectStorageSetting client={client} project={project} backends={backends} notify={notify} />
          )}
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
          {!readOnly && (
            <button type="button" onClick={() => input.current?.click()} data-testid="upload-artifact">
              Upload…
            </button>
          )}
        </div>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          data-testid="artifact-file"
          onChange={(e) => {
            start([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
      </div>
      {readOnly && <p className="muted">A read-only view at commit {shortId(at!)}: switch to a branch to upload or delete.</p>}

      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u) => {
            const f = progressFraction(u.progress.loaded, u.progress.total);
            return (
              <li key={u.id} className={`upload${u.error ? ' failed' : ''}`} data-testid="upload">
                <div className="upload-line">
                  <strong>{u.name}</strong>
                  <span className="muted" data-testid="upload-progress">
                    {u.error ? 'failed' : progressText(u.progress.loaded, u.progress.total)}
                  </span>
                  {u.error ? (
                    <button type="button" className="ghost" onClick={() => drop(u.id)}>
                      Dismiss
                    </button>
                  ) : f === 1 ? (
                    <span className="upload-done">Stored</span>
                  ) : (
                    <button type="button" className="ghost" onClick={u.cancel} aria-label={`Cancel upload of ${u.name}`}>
                      Cancel
                    </button>
                  )}
                </div>
                <progress
                  max={1}
                  value={f ?? undefined}
                  aria-label={`Uploading ${u.name}`}
                  className="upload-bar"
                />
                {u.error && (
                  <p className="form-error" role="alert">
                    Could not upload {u.name}: {u.error}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}

      {load.kind === 'loading' && <p className="state">Loading artifacts…</p>}
      {load.kind === 'error' && (
        <div className="state error" role="alert">
          <p>Could not load artifacts: {load.message}</p>
          <button type="button" onClick={reload}>
            Try again
          </button>
        </div>
      )}
      {all.length > 0 && (pipelineChoices.length > 1 || kindChoices.length > 1 || filter !== NO_FILTER) && (
        <div className="artifact-filters" role="group" aria-label="Filter artifacts">
          <label>
            <span className="muted">Pipeline</span>
            <select
              value={filter.pipeline ?? ''}
              onChange={(e) => setFilter({ ...filter, pipeline: e.target.value || null })}
              data-testid="filter-pipeline"
            >
              <option value="">All ({all.length})</option>
              {pipelineChoices.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label} ({o.count})
                </option>
              ))}
            </select>
          </label>
          <label>
            <span className="muted">Kind</span>
            <select
              value={filter.kind ?? ''}
              onChange={(e) => setFilter({ ...filter, kind: e.target.value || null })}
              data-testid="filter-kind"
            >
              <option value="">All ({all.length})</option>
              {kindChoices.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label} ({o.count})
                </option>
              ))}
            </select>
          </label>
          <span className="muted small">
            {artifacts.length} of {all.length} shown
          </span>
          {filter !== NO_FILTER && (
            <button type="button" className="link small" onClick={() => setFilter(NO_FILTER)}>
              Show all
            </button>
          )}
        </div>
      )}
      {load.kind === 'ready' && all.length === 0 && (
        <div className="empty-state artifacts-empty" data-testid="artifacts-empty">
          <div className="empty-icon" aria-hidden="true">
            ▤
          </div>
          <h3>No artifacts {readOnly ? 'at this commit' : `on ${branch}`}</h3>
          <p className="muted">
            Artifacts are the files your pipelines read and write: data sets, trained models, results. Jobs add
            their outputs here when an execution finishes
            {readOnly ? '.' : '; you can also upload a file (or drop it here) to use as an input.'}
            {!readOnly && limit !== null && ` Files of at most ${formatSize(limit)} each.`}
          </p>
          {!readOnly && (
            <button type="button" onClick={() => input.current?.click()}>
              Upload a file
            </button>
          )}
        </div>
      )}
      {!readOnly && all.length > 0 && (
        <div
          className={`drop-zone${dragging ? ' active' : ''}`}
          role="button"
          tabIndex={0}
          onClick={() => input.current?.click()}
          onKeyDown={(e) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              input.current?.click();
            }
          }}
        >
          {dragging ? 'Drop to upload' : 'Drop files here, or click to choose files to upload'}
          {limit !== null && <span className="muted"> (at most {formatSize(limit)} each)</span>}
        </div>
      )}
      {artifacts.length > 0 && (
        <table className="table artifacts-table" data-testid="artifacts">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th className="num">Size</th>
              <th>Kind</th>
              <th>Origin</th>
              <th>Digest</th>
              {storage && <th>Stored in</th>}
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {artifacts.map((a) => {
              const key = artifactKey(a);
              const open = previewing === key;
              return (
                <Fragment key={key}>
                  <tr
                    className={open ? 'previewing' : undefined}
                    data-testid={`artifact-${a.name}`}
                    draggable
                    onDragStart={(e) => {
                      e.dataTransfer.setData(
                        DROP_TYPE,
                        encodeDropItem({ kind: 'artifact', artifact: { digest: a.digest, name: a.name, serializer: kindOf(a) } }),
                      );
                      e.dataTransfer.effectAllowed = 'copy';
                    }}
                    title="Drag onto a pipeline's canvas to use it as an Input"
                  >
                    <td className="artifact-name">{a.name}</td>
                    <td className="artifact-value" data-testid="artifact-value">
                      {a.value !== undefined ? (
                        <InlineValue value={a.value} />
                      ) : showsInline(a) ? (
                        <InlineValue url={client.artifactUrl(a.digest, project, ref)} headers={client.extraHeaders} />
                      ) : null}
                    </td>
                    <td className="num" title={a.size === undefined ? undefined : `${a.size} bytes`}>
                      {formatSize(a.size)}
                    </td>
                    <td>{kindOf(a)}</td>
                    <td>
                      <Origin artifact={a} project={project} branch={branch} />
                    </td>
                    <td>
                      <code title={a.digest}>{shortDigest(a.digest)}</code>
                    </td>
                    {storage && (
                      <td className="artifact-stores">
                        <StoreBadges artifact={a} />
                        {!readOnly && (
                          <StorageActionSelect
                            client={client}
                            project={project}
                            artifact={a}
                            backends={backends}
                            onDone={reload}
                            notify={notify}
                          />
                        )}
                      </td>
                    )}
                    <td className="row-actions">
                      <a
                        className="button secondary small"
                        href={projectHref(project, { kind: 'lineage', digest: a.digest, compare: null }, { branch })}
                        aria-label={`Lineage of ${a.name}`}
                        data-testid="artifact-lineage"
                      >
                        Lineage
                      </a>
                      <button
                        type="button"
                        className="ghost small"
                        onClick={() => setComparing(a)}
                        aria-label={`Compare the lineage of ${a.name} with…`}
                        data-testid="artifact-compare"
                      >
                        Compare lineage with…
                      </button>
                      <button
                        type="button"
                        className="ghost small"
                        onClick={() => setPreviewing(open ? null : key)}
                        aria-expanded={open}
                        aria-label={`${open ? 'Hide the preview of' : 'Preview'} ${a.name}`}
                        data-testid="preview-artifact"
                      >
                        {open ? 'Hide' : 'Preview'}
                      </button>
                      <button
                        type="button"
                        className="secondary small"
                        onClick={() => void download(a)}
                        disabled={downloading === key}
                        aria-label={`Download ${a.name}`}
                      >
                        {downloading === key ? 'Downloading…' : 'Download'}
                      </button>
                      {!readOnly && a.guid !== null && (
                        <button
                          type="button"
                          className="ghost danger small"
                          onClick={() => setDeleting({ ...a, guid: a.guid! })}
                          aria-label={`Delete ${a.name}`}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                  {open && (
                    <tr className="artifact-preview-row">
                      <td colSpan={storage ? 8 : 7}>
                        <Preview client={client} project={project} digest={a.digest} serializer={a.serializer} name={a.name} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
      {all.length > 0 && artifacts.length === 0 && <p className="muted pad">No artifact matches these filters.</p>}
      {comparing && (
        <CompareDialog
          client={client}
          project={project}
          branch={branch}
          digest={comparing.digest}
          name={comparing.name}
          artifacts={load.kind === 'ready' ? load.artifacts : undefined}
          onClose={() => setComparing(null)}
        />
      )}
      {deleting && (
        <DeleteArtifactDialog
          client={client}
          project={project}
          branch={branch}
          artifact={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            notify?.('info', `Deleted ${deleting.name}`);
            setDeleting(null);
            reload();
          }}
        />
      )}
    </div>
  );
}

function Origin({ artifact, project, branch }: { artifact: Artifact; project: string; branch: string }) {
  const p = provenance(artifact);
  const when =
    p.kind !== 'unknown' && p.createdMs !== undefined && p.createdMs > 0 ? (
      <span title={dateTime(p.createdMs)}>{timeAgo(p.createdMs)}</span>
    ) : null;
  if (p.kind === 'job')
    return (
      <span className="muted artifact-origin" data-testid="artifact-origin">
        {p.output ? (
          <>
            output <strong className="mono">{p.output}</strong> of{' '}
          </>
        ) : (
          'made by '
        )}
        {p.jobName ? <strong title={p.job}>{p.jobName}</strong> : <code title={p.job}>job {shortId(p.job)}</code>}
        <span className="origin-where">
          {p.pipelineName &&
            (p.pipeline ? (
              <a className="artifact-pipeline" href={projectHref(project, { kind: 'pipeline', guid: p.pipeline }, { branch })}>
                {p.pipelineName}
              </a>
            ) : (
              <span className="artifact-pipeline">{p.pipelineName}</span>
            ))}
          {p.pipelineName && p.execution && ' · '}
          {p.execution && (
            <a href={projectHref(project, { kind: 'execution', id: p.execution }, { branch })} title={`execution ${p.execution}`}>
              run {shortId(p.execution)}
            </a>
          )}
          {when && (p.pipelineName || p.execution) && ' · '}
          {when}
        </span>
      </span>
    );
  if (p.kind === 'upload')
    return (
      <span className="muted artifact-origin" data-testid="artifact-origin">
        uploaded{p.user ? ` by ${p.user}` : ''}
        {when && <span className="origin-where">{when}</span>}
      </span>
    );
  return <span className="muted">–</span>;
}

function DeleteArtifactDialog({
  client,
  project,
  branch,
  artifact,
  onClose,
  onDeleted,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  artifact: Artifact & { guid: string };
  onClose: () => void;
  onDeleted: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The server's 422: the model still uses it. Then "Delete anyway" forces.
  const [inUse, setInUse] = useState<string | null>(null);
  async function remove(force: boolean) {
    setBusy(true);
    setError(null);
    try {
      await client.deleteArtifact(project, artifact.guid, { branch, force });
      onDeleted();
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && !force) setInUse(e.message);
      else setError(message(e));
      setBusy(false);
    }
  }
  return (
    <Dialog
      title={`Delete “${artifact.name}”?`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          {inUse ? (
            <button type="button" className="danger" onClick={() => void remove(true)} disabled={busy}>
              {busy ? 'Deleting…' : 'Delete anyway'}
            </button>
          ) : (
            <button type="button" className="danger" onClick={() => void remove(false)} disabled={busy}>
              {busy ? 'Deleting…' : 'Delete artifact'}
            </button>
          )}
        </>
      }
    >
      <p>
        It is removed from branch <strong>{branch}</strong> in one commit. The stored bytes stay, so executions and
        older commits that name it keep working.
      </p>
      {inUse && (
        <p className="form-error" role="alert">
          {inUse}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
