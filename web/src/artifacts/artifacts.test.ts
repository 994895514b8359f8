import { describe, expect, it } from 'vitest';
import {
  downloadName,
  formatSize,
  progressFraction,
  progressText,
  provenance,
  provenanceText,
  shortDigest,
  uploadName,
} from './artifacts';

describe('artifacts helpers', () => {
  it('formats sizes for people', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1024)).toBe('1 KiB');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(20 * 1024)).toBe('20 KiB');
    expect(formatSize(1024 * 1024 - 1)).toBe('1 MiB');
    expect(formatSize(3.25 * 1024 ** 3)).toBe('3.3 GiB');
    expect(formatSize(5 * 1024 ** 5)).toBe('5120 TiB');
    expect(formatSize(undefined)).toBe('–');
    expect(formatSize(-1)).toBe('–');
    expect(formatSize(Number.NaN)).toBe('–');
  });

  it('says where an artifact came from', () => {
    const job = provenance({ job: 'job-1234567890', execution: 'exec-abcdefgh' });
    expect(job).toEqual({ kind: 'job', job: 'job-1234567890', execution: 'exec-abcdefgh' });
    expect(provenanceText(job)).toBe('made by job job-1234 of execution exec-abc');
    expect(provenanceText(provenance({ job: 'j1' }))).toBe('made by job j1');
    expect(provenanceText(provenance({ uploaded_by: 'ada' }))).toBe('uploaded by ada');
    expect(provenanceText(provenance({ uploaded_by: '' }))).toBe('uploaded');
    expect(provenanceText(provenance({}))).toBe('origin unknown');
    // A job wins over an uploader; empty strings count as absent.
    expect(provenance({ job: 'j', uploaded_by: 'ada' }).kind).toBe('job');
    expect(provenance({ job: '', uploaded_by: 'ada' }).kind).toBe('upload');
  });

  it('names downloads safely', () => {
    const d = 'ab'.repeat(32);
    expect(downloadName({ name: 'weights.pt', digest: d, serializer: 'torch' })).toBe('weights.pt');
    expect(downloadName({ name: 'model', digest: d, serializer: 'pickle' })).toBe('model.pkl');
    expect(downloadName({ name: 'notes', digest: d, serializer: 'raw' })).toBe('notes');
    expect(downloadName({ name: '../etc/passwd', digest: d })).toBe('_etc_passwd');
    expect(downloadName({ name: 'a:b*c?.txt', digest: d })).toBe('a_b_c_.txt');
    expect(downloadName({ name: '', digest: d, serializer: 'json' })).toBe(`${shortDigest(d)}.json`);
    expect(downloadName({ name: '///', digest: d })).toBe(shortDigest(d));
    expect(downloadName({ name: 'x'.repeat(300), digest: d }).length).toBe(200);
  });

  it('names uploads and reports progress', () => {
    expect(uploadName('C:\\data\\train.csv')).toBe('train.csv');
    expect(uploadName('dir/file.bin')).toBe('file.bin');
    expect(uploadName('   ')).toBe('upload');
    expect(uploadName('y'.repeat(250)).length).toBe(200);
    expect(progressText(512, 1024)).toBe('50% · 512 B of 1 KiB');
    expect(progressText(2048, 2048)).toBe('100% · 2 KiB of 2 KiB');
    expect(progressText(300, null)).toBe('300 B sent');
    expect(progressFraction(1, 4)).toBe(0.25);
    expect(progressFraction(5, 4)).toBe(1);
    expect(progressFraction(1, null)).toBeNull();
  });
});
