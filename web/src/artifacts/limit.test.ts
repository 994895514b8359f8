import { describe, expect, it } from 'vitest';
import { overLimit, uploadLimit } from './limit';

describe('upload limit', () => {
  it('reads the limit from /health, none when absent or 0', () => {
    expect(uploadLimit({ status: 'ok', max_artifact_bytes: 1048576 })).toBe(1048576);
    expect(uploadLimit({ status: 'ok', max_artifact_bytes: 0 })).toBeNull();
    expect(uploadLimit({ status: 'ok' })).toBeNull();
    expect(uploadLimit(null)).toBeNull();
  });

  it('names the limit and the option before sending', () => {
    expect(overLimit(10, null)).toBeNull();
    expect(overLimit(1024, 1024)).toBeNull();
    expect(overLimit(3 * 1024 ** 3, 2 * 1024 ** 3)).toBe(
      "3 GiB is over this server's limit of 2 GiB per artifact (kiln serve --max-artifact-mb raises it)",
    );
  });
});
