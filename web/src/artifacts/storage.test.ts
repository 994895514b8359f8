import { describe, expect, it } from 'vitest';
import type { Artifact, StorageBackend } from '@kiln/client';
import {
  actionMessage,
  actionValue,
  choiceFor,
  chosenBackend,
  copyTargets,
  moveTargets,
  parseAction,
  showsStorage,
  storageChoices,
  storesOf,
} from './storage';

const backends: StorageBackend[] = [
  { name: 'default', kind: 'local', default: true },
  { name: 's3', kind: 's3', default: false },
  { name: 'scratch', kind: 'local', default: false },
];

function artifact(stores?: unknown): Artifact {
  return { guid: null, name: 'w.bin', digest: 'ab'.repeat(32), stores } as Artifact;
}

describe('storage of artifacts', () => {
  it('shows the storage column only when there is more than one backend', () => {
    expect(showsStorage(backends)).toBe(true);
    expect(showsStorage(backends.slice(0, 1))).toBe(false);
    expect(showsStorage([])).toBe(false);
  });

  it('reads the stores, ignoring what is not a list of names', () => {
    expect(storesOf(artifact(['default', 's3']))).toEqual(['default', 's3']);
    expect(storesOf(artifact(undefined))).toEqual([]);
    expect(storesOf(artifact('default'))).toEqual([]);
    expect(storesOf(artifact(['s3', 3]))).toEqual(['s3']);
  });

  it('copies only to backends that do not hold it, moves to any but its only one', () => {
    expect(copyTargets(backends, artifact(['default']))).toEqual(['s3', 'scratch']);
    expect(moveTargets(backends, artifact(['default']))).toEqual(['s3', 'scratch']);
    // In two: a copy can go to the third; a move to either of them keeps one.
    expect(copyTargets(backends, artifact(['default', 's3']))).toEqual(['scratch']);
    expect(moveTargets(backends, artifact(['default', 's3']))).toEqual(['default', 's3', 'scratch']);
    // Its bytes are gone: nothing to copy or move.
    expect(copyTargets(backends, artifact([]))).toEqual([]);
    expect(moveTargets(backends, artifact([]))).toEqual([]);
  });

  it('encodes the row action in the select value and back', () => {
    expect(actionValue({ verb: 'move', to: 's3' })).toBe('move:s3');
    expect(parseAction('move:s3')).toEqual({ verb: 'move', to: 's3' });
    expect(parseAction('copy:scratch')).toEqual({ verb: 'copy', to: 'scratch' });
    expect(parseAction('')).toBeNull();
    expect(parseAction('delete:s3')).toBeNull();
    expect(parseAction('move:')).toBeNull();
  });

  it('says what an action did', () => {
    expect(actionMessage('w.bin', { verb: 'move', to: 's3' }, true)).toBe('Moved w.bin to s3');
    expect(actionMessage('w.bin', { verb: 'copy', to: 's3' }, true)).toBe('Copied w.bin to s3');
    expect(actionMessage('w.bin', { verb: 'move', to: 's3' }, false)).toBe('w.bin was already in s3');
  });

  it("maps the project's choice to and from its select", () => {
    expect(storageChoices(backends)[0]).toEqual({ value: 'default', label: 'default (default)' });
    expect(chosenBackend(null, backends)).toBe('default');
    expect(chosenBackend({ backend: 's3', chosen: true }, backends)).toBe('s3');
    expect(choiceFor('default', backends)).toBeNull();
    expect(choiceFor('s3', backends)).toBe('s3');
  });
});
