import { describe, expect, it } from 'vitest';
import { ApiError, type KilnClient } from '@kiln/client';
import { artifactSource } from './source';
import { isAbortError } from './upload';

/** Just the client calls an upload makes before it sends anything. */
function client(health: () => Promise<Record<string, unknown>>): KilnClient {
  return {
    health,
    listArtifacts: async () => [],
    artifactUploadUrl: () => 'http://kiln/upload',
    extraHeaders: {},
  } as unknown as KilnClient;
}

describe('artifactSource', () => {
  it('refuses a file over the server limit before sending, naming the limit', async () => {
    const src = artifactSource(client(async () => ({ status: 'ok', max_artifact_bytes: 1024 })), 'p', 'main');
    const err = await src.upload(new Blob([new Uint8Array(2048)]), 'big.bin', () => {}).done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(413);
    expect((err as ApiError).message).toMatch(/2 KiB is over this server's limit of 1 KiB .*--max-artifact-mb/);
  });

  it('asks for the limit once, and a cancel before sending aborts', async () => {
    let asked = 0;
    const src = artifactSource(
      client(async () => {
        asked++;
        return { status: 'ok' };
      }),
      'p',
      'main',
    );
    const up = src.upload(new Blob(['x']), 'x', () => {});
    up.cancel();
    expect(isAbortError(await up.done.catch((e: unknown) => e))).toBe(true);
    const again = src.upload(new Blob(['y']), 'y', () => {});
    again.cancel();
    await again.done.catch(() => {});
    expect(asked).toBe(1);
  });
});
