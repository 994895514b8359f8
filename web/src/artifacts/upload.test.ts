import { describe, expect, it } from 'vitest';
import { ApiError } from '@kiln/client';
import { isAbortError, uploadWithProgress, type UploadProgress } from './upload';

/** Just enough of XMLHttpRequest: the test drives progress and the answer. */
class FakeXhr {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  sent: unknown = null;
  status = 0;
  statusText = '';
  responseText = '';
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: unknown) {
    this.sent = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, body: string) {
    this.status = status;
    this.responseText = body;
    this.onload?.();
  }
}

function start(headers: Record<string, string> = {}) {
  const fake = new FakeXhr();
  const progress: UploadProgress[] = [];
  const up = uploadWithProgress('/api/v1/projects/p/artifacts?name=a', new Blob(['hello']), (p) => progress.push(p), {
    headers,
    xhr: () => fake as unknown as XMLHttpRequest,
  });
  return { fake, progress, up };
}

describe('uploadWithProgress', () => {
  it('posts the bytes, reports progress and resolves with the answer', async () => {
    const { fake, progress, up } = start({ Authorization: 'Bearer t' });
    expect(fake.method).toBe('POST');
    expect(fake.headers['Content-Type']).toBe('application/octet-stream');
    expect(fake.headers['Authorization']).toBe('Bearer t');
    expect(fake.sent).toBeInstanceOf(Blob);
    fake.upload.onprogress?.({ loaded: 2, total: 5, lengthComputable: true });
    fake.upload.onprogress?.({ loaded: 5, total: 0, lengthComputable: false });
    expect(progress).toEqual([
      { loaded: 2, total: 5 },
      { loaded: 5, total: null },
    ]);
    fake.answer(201, JSON.stringify({ guid: 'g', digest: 'd', size: 5, commit: 'c' }));
    await expect(up.done).resolves.toEqual({ guid: 'g', digest: 'd', size: 5, commit: 'c' });
  });

  it("turns the server's error into an ApiError with its message", async () => {
    const { fake, up } = start();
    fake.answer(413, JSON.stringify({ error: { code: 'ResourceExhausted', message: 'the body is over 64 MiB' } }));
    const e = await up.done.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(413);
    expect((e as ApiError).message).toBe('the body is over 64 MiB');
  });

  it("shows a full disk's 507 in the server's words", async () => {
    const { fake, up } = start();
    const message = 'not enough disk space for the upload: it needs 5 bytes and 2 are free';
    fake.answer(507, JSON.stringify({ error: { code: 'InsufficientStorage', message } }));
    const e = await up.done.catch((x: unknown) => x);
    expect((e as ApiError).status).toBe(507);
    expect((e as ApiError).message).toBe(message);
  });

  it('cancels with an AbortError and fails on network errors', async () => {
    const a = start();
    a.up.cancel();
    expect(isAbortError(await a.up.done.catch((x: unknown) => x))).toBe(true);
    const b = start();
    b.fake.onerror?.();
    const e = await b.up.done.catch((x: unknown) => x);
    expect((e as ApiError).status).toBe(0);
  });
});
