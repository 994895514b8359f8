// Project archives on the projects page (GET projects/{p}/export, POST
// projects/import; docs/api.md): the archive's file name, the new project's
// name suggested from a picked file, and what to tell the user when an
// export or an import fails. Pure; ProjectArchive.tsx is the UI.
import { ApiError, type ProjectImportResult } from '@kiln/client';
import { describeError } from '../ui/format';
import { MAX_PROJECT_NAME, freeProjectName } from './projectName';

/** The extension of a project archive, as the server names the download. */
export const ARCHIVE_EXTENSION = '.kiln';

/** The file an export is saved as: `<project>.kiln`. */
export function archiveFileName(project: string): string {
  return `${project}${ARCHIVE_EXTENSION}`;
}

/**
 * The name suggested for a project imported from `fileName`: the file's name
 * without its folder, `.kiln`, and the " (1)" a browser adds to a repeated
 * download; other characters a name cannot hold become "-"; a free variant
 * (name-2, …) when the name is taken.
 */
export function projectNameFromFile(fileName: string, taken: readonly string[] = []): string {
  let base = fileName.split(/[\\/]/).pop() ?? '';
  if (base.toLowerCase().endsWith(ARCHIVE_EXTENSION)) base = base.slice(0, -ARCHIVE_EXTENSION.length);
  base = base
    .replace(/\s*\(\d+\)$/, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, MAX_PROJECT_NAME)
    .replace(/-+$/, '');
  return freeProjectName(base || 'imported-project', taken);
}

/** What went wrong with an import, for the import dialog. */
export function importErrorMessage(e: unknown, name: string, fileName: string): string {
  if (!(e instanceof ApiError)) return describeError(e);
  switch (e.status) {
    case 0:
      return 'Could not reach the Kiln server, so the project was not imported. Check the connection and try again.';
    case 409:
      return `A project named “${name}” exists. Choose another name.`;
    case 400:
      return `“${fileName}” is not a Kiln project archive, or it is damaged, so nothing was imported. (The server said: ${e.message})`;
    case 413:
      return `“${fileName}” is larger than this server accepts in one request (kiln serve --max-body-mb).`;
    case 401:
      return 'Sign in to import a project.';
    case 403:
      return 'You may not create projects on this server.';
    default:
      return `The import failed: ${describeError(e)}`;
  }
}

/** What went wrong with an export, for the page's notice. */
export function exportErrorMessage(e: unknown, project: string): string {
  if (e instanceof ApiError && e.status === 404) return `Could not export “${project}”: it no longer exists.`;
  if (e instanceof ApiError && e.status === 0) return `Could not export “${project}”: the Kiln server cannot be reached.`;
  return `Could not export “${project}”: ${describeError(e)}`;
}

/**
 * The notice after an import. The answer's `refs` counts the project's own
 * ref besides its branches and tags (docs/formats.md), so it is not shown as
 * a branch count.
 */
export function importSummary(r: ProjectImportResult): string {
  return `Imported “${r.name}” with its history (${r.objects} ${r.objects === 1 ? 'object' : 'objects'}).`;
}
