// A project's artifacts as the pipeline editor needs them (the palette's
// list, the Input inspector's picker and its upload button), on one branch.
// Uploads check the server's limit before sending (limit.ts).
import { ApiError, type Artifact, type KilnClient, type UploadResult } from '@kiln/client';
import { overLimit, uploadLimit } from './limit';
import { isAbortError, uploadWithProgress, type Upload, type UploadProgress } from './upload';

export interface ArtifactSource {
  list(signal?: AbortSignal): Promise<Artifact[]>;
  /** The server's size limit per artifact in bytes; null when it has none. */
  limit(): Promise<number | null>;
  /** Uploads `file` as `name`; refused before sending when it is over the server's limit. */
  upload(file: Blob, name: string, onProgress: (p: UploadProgress) => void): Upload;
}

export function artifactSource(client: KilnClient, project: string, branch: string): ArtifactSource {
  // Asked once per source; a server that does not say has no limit.
  let limit: Promise<number | null> | null = null;
  const getLimit = () =>
    (limit ??= client.health().then(
      (h) => uploadLimit(h),
      () => null,
    ));
  return {
    list: (signal) => client.listArtifacts(project, branch, signal),
    limit: getLimit,
    upload(file, name, onProgress) {
      let cancelled = false;
      let inner: Upload | null = null;
      const done = getLimit().then((max): Promise<UploadResult> => {
        const why = overLimit(file.size, max);
        if (why) throw new ApiError(413, 'ResourceExhausted', why);
        if (cancelled) throw new DOMException('the upload was cancelled', 'AbortError');
        inner = uploadWithProgress(client.artifactUploadUrl(project, name, branch), file, onProgress, {
          headers: client.extraHeaders,
        });
        return inner.done;
      });
      return {
        done,
        cancel() {
          cancelled = true;
          inner?.cancel();
        },
      };
    },
  };
}

export { isAbortError };
