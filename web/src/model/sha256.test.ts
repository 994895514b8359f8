import { describe, expect, it } from 'vitest';
import { deriveGuid, isGuid, newGuid } from './guid';
import { sha256Hex, utf8Encode } from './sha256';

// Expected values from FIPS 180-4 examples and Python's hashlib.
describe('sha256', () => {
  it.each([
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
    ['a'.repeat(55), '9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318'],
    ['a'.repeat(56), 'b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a'],
    ['a'.repeat(64), 'ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb'],
    ['a'.repeat(1000), '41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3'],
    ['héllo wörld ✓ 𝄞', 'f7f53566f9b086b5e64130a9492d4e3fb8e444cb7270edce3f958154a6f3e297'],
  ])('sha256(%j)', (input, hex) => {
    expect(sha256Hex(input)).toBe(hex);
  });

  it('encodes UTF-8 like TextEncoder', () => {
    for (const s of ['', 'abc', 'é', '✓', '𝄞', 'a\u0000b', '\ud800x'])
      expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
  });
});

describe('guids', () => {
  it('derives the same guids as the server (vectors from Python)', () => {
    expect(deriveGuid('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222')).toBe(
      '9d88fa0e-ee1d-55ed-b58c-f45633479f97',
    );
    expect(deriveGuid('a', 'b')).toBe('c14cddc0-33f6-5b9d-aa80-ea675cf280a0');
    expect(deriveGuid('', '')).toBe('8a5edab2-8263-5443-a19e-051e4ade2d1d');
  });

  it('is deterministic, ordered and well-formed', () => {
    const a = newGuid();
    const b = newGuid();
    expect(deriveGuid(a, b)).toBe(deriveGuid(a, b));
    expect(deriveGuid(a, b)).not.toBe(deriveGuid(b, a));
    expect(isGuid(deriveGuid(a, b))).toBe(true);
    expect(deriveGuid(a, b)[14]).toBe('5');
    expect('89ab').toContain(deriveGuid(a, b)[19]);
  });

  it('makes version-4 random guids', () => {
    const g = newGuid((n) => new Uint8Array(n).fill(0xff));
    expect(g).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(isGuid(newGuid())).toBe(true);
    expect(isGuid('ABCDEF00-0000-4000-8000-000000000000')).toBe(false);
    expect(isGuid('not-a-guid')).toBe(false);
  });
});
