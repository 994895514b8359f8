// Project archives on the projects page: the per-project Export button (the
// archive, `<project>.kiln`, fetched with the client and saved), the "Import
// project…" button (a file picker) and the import dialog (the new project's
// name, the upload with its progress, cancel, and what a refusal means).
// Messages and names come from archive.ts.
import { useRef, useState, type FormEvent } from 'react';
import type { KilnClient, ProjectImportResult } from '@kiln/client';
import { isAbortError, uploadWithProgress, type Upload, type UploadProgress } from '../artifacts/upload';
import { progressFraction, progressText } from '../artifacts/artifacts';
import { Dialog } from '../ui/Dialog';
import { saveBlob } from '../ui/saveBlob';
import { ARCHIVE_EXTENSION, archiveFileName, exportErrorMessage, importErrorMessage, projectNameFromFile } from './archive';
import { projectNameProblem } from './projectName';
import { ProjectNameField } from './ProjectNameField';

/** Downloads a project's archive; a failure goes to onError (the page's notice). */
export function ExportProjectButton({
  client,
  project,
  onError,
}: {
  client: KilnClient;
  project: string;
  onError: (message: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  async function exportProject() {
    setBusy(true);
    try {
      saveBlob(await client.exportProject(project), archiveFileName(project));
    } catch (e) {
      onError(exportErrorMessage(e, project));
    } finally {
      setBusy(false);
    }
  }
  return (
    <button
      type="button"
      className="ghost icon export-button"
      aria-label={`Export ${project}`}
      title={busy ? `Exporting ${project}…` : `Export ${project} as ${archiveFileName(project)}`}
      onClick={exportProject}
      disabled={busy}
      aria-busy={busy}
      data-testid={`export-${project}`}
    >
      <DownloadIcon />
    </button>
  );
}

/** "Import project…": picks an archive and hands it to onPick. */
export function ImportProjectButton({ onPick, className }: { onPick: (file: File) => void; className?: string }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className={className ?? 'secondary'} onClick={() => input.current?.click()} data-testid="import-project">
        Import project…
      </button>
      <input
        ref={input}
        type="file"
        accept={`${ARCHIVE_EXTENSION},application/octet-stream`}
        hidden
        data-testid="import-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = ''; // picking the same file again must fire onChange again
          if (file) onPick(file);
        }}
      />
    </>
  );
}

type ImportState =
  | { readonly kind: 'editing'; readonly error: string | null }
  | { readonly kind: 'uploading'; readonly progress: UploadProgress; readonly upload: Upload<ProjectImportResult> };

/** Asks for the new project's name, uploads the archive, and reports what the server answered. */
export function ImportProjectDialog({
  client,
  file,
  taken,
  onClose,
  onImported,
}: {
  client: KilnClient;
  file: File;
  taken: readonly string[];
  onClose: () => void;
  onImported: (result: ProjectImportResult) => void;
}) {
  const [name, setName] = useState(() => projectNameFromFile(file.name, taken));
  const [state, setState] = useState<ImportState>({ kind: 'editing', error: null });
  const trimmed = name.trim();
  const nameProblem = projectNameProblem(trimmed, taken);
  const uploading = state.kind === 'uploading';

  function start(e?: FormEvent) {
    e?.preventDefault();
    if (!trimmed || nameProblem || uploading) return;
    const upload = uploadWithProgress<ProjectImportResult>(
      client.projectImportUrl(trimmed),
      file,
      (progress) => setState((s) => (s.kind === 'uploading' ? { ...s, progress } : s)),
      { headers: client.extraHeaders },
    );
    setState({ kind: 'uploading', progress: { loaded: 0, total: file.size }, upload });
    upload.done.then(onImported, (err: unknown) =>
      setState({ kind: 'editing', error: isAbortError(err) ? null : importErrorMessage(err, trimmed, file.name) }),
    );
  }

  function close() {
    if (state.kind === 'uploading') state.upload.cancel();
    onClose();
  }

  const fraction = uploading ? progressFraction(state.progress.loaded, state.progress.total) : null;
  return (
    <Dialog
      title="Import a project"
      onClose={close}
      actions={
        <>
          <button type="button" className="secondary" onClick={uploading ? () => state.upload.cancel() : close}>
            {uploading ? 'Stop' : 'Cancel'}
          </button>
          <button
            type="submit"
            form="import-form"
            disabled={uploading || trimmed === '' || nameProblem !== null}
            data-testid="import-submit"
          >
            {uploading ? 'Importing…' : 'Import'}
          </button>
        </>
      }
    >
      <form id="import-form" onSubmit={start} className="import-form">
        <p className="muted">
          Creates a new project from <strong>{file.name}</strong>, an archive exported from Kiln, with its
          branches, tags and history.
        </p>
        <ProjectNameField
          label="New project name"
          inputName="import-name"
          value={name}
          onChange={setName}
          problem={nameProblem}
          disabled={uploading}
        />
        {uploading && (
          <div className="import-progress">
            <progress max={1} value={fraction ?? undefined} aria-label={`Uploading ${file.name}`} className="upload-bar" />
            <span className="muted small" data-testid="import-progress">
              {fraction === 1 ? 'Sent; the server is importing…' : progressText(state.progress.loaded, state.progress.total)}
            </span>
          </div>
        )}
        {state.kind === 'editing' && state.error && (
          <p className="form-error" role="alert" data-testid="import-error">
            {state.error}
          </p>
        )}
      </form>
    </Dialog>
  );
}

function DownloadIcon() {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M8 2.5v7.5m-3-3 3 3 3-3M3 12.5v1h10v-1" fill="none" stroke="currentColor" strokeWidth="1.3" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
