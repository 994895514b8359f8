// An upload with progress: fetch cannot report how much of a request body
// has been sent, XMLHttpRequest can (upload.onprogress). Errors are ApiErrors
// like every other call; cancel() aborts and rejects with an AbortError.
import { ApiError, errorFromResponse, type UploadResult } from '@kiln/client';

export interface UploadProgress {
  readonly loaded: number;
  /** null when the browser does not know the size. */
  readonly total: number | null;
}

/** An upload under way; `done` answers the server's JSON (an artifact upload's by default). */
export interface Upload<T = UploadResult> {
  readonly done: Promise<T>;
  cancel(): void;
}

/** The minimal XMLHttpRequest this needs (injectable for tests). */
export type XhrFactory = () => XMLHttpRequest;

export function uploadWithProgress<T = UploadResult>(
  url: string,
  body: Blob,
  onProgress: (p: UploadProgress) => void,
  opts: { headers?: Readonly<Record<string, string>>; xhr?: XhrFactory } = {},
): Upload<T> {
  const xhr = (opts.xhr ?? (() => new XMLHttpRequest()))();
  const done = new Promise<T>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    for (const [k, v] of Object.entries(opts.headers ?? {})) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : null });
    xhr.onload = () => {
      const text = typeof xhr.responseText === 'string' ? xhr.responseText : '';
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(errorFromResponse(xhr.status, xhr.statusText, text));
        return;
      }
      try {
        resolve(JSON.parse(text) as T);
      } catch {
        reject(new ApiError(xhr.status, 'bad_response', 'the server sent invalid JSON for the upload'));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'cannot reach the Kiln server: the upload failed'));
    xhr.onabort = () => reject(new DOMException('the upload was cancelled', 'AbortError'));
    xhr.send(body);
  });
  return { done, cancel: () => xhr.abort() };
}

export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}
