// artifactPreview: the path and query it asks for, the preview it returns,
// and the server's 422 (the file is not what its serializer says) as ApiError.
import { describe, expect, it } from 'vitest';
import { KilnClient, type FetchLike } from './client';
import { ApiError } from './errors';
import type { ArtifactPreview } from './types';

function fake(...answers: Response[]): { fetch: FetchLike; urls: string[] } {
  const urls: string[] = [];
  const fetch: FetchLike = async (url, init) => {
    urls.push(`${init?.method ?? 'GET'} ${url}`);
    const a = answers.shift();
    if (!a) throw new Error('unexpected call');
    return a;
  };
  return { fetch, urls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

describe('artifactPreview', () => {
  it('asks for the preview with the serializer only when given', async () => {
    const preview: ArtifactPreview = {
      kind: 'array',
      dtype: 'float32',
      shape: [5, 64, 64],
      stats: { min: 0, max: 1, mean: 0.5, std: 0.2, nan: 0 },
      layout: 'channels first',
      images: [{ label: 'band 0', image: 'data:image/png;base64,AA==' }],
    };
    const { fetch, urls } = fake(json(200, preview), json(200, { kind: 'text', text: 'x', size: 1, truncated: false }));
    const c = new KilnClient({ fetch, baseUrl: 'http://k:1' });
    expect(await c.artifactPreview('my project', '3fa9', 'numpy')).toEqual(preview);
    const text = await c.artifactPreview('p', 'ab/cd');
    expect(text.kind === 'text' && text.text).toBe('x');
    expect(urls).toEqual([
      'GET http://k:1/api/v1/projects/my%20project/artifacts/3fa9/preview?serializer=numpy',
      'GET http://k:1/api/v1/projects/p/artifacts/ab%2Fcd/preview',
    ]);
  });

  it('throws the server’s 422 with its message', async () => {
    const { fetch } = fake(json(422, { error: { code: 'Unprocessable', message: 'not a NumPy .npy file: bad magic' } }));
    const err = await new KilnClient({ fetch }).artifactPreview('p', 'd', 'numpy').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).message).toContain('not a NumPy .npy file');
  });
});
