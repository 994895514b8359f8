// Guids: node identities. Mirrors src/core/guid.{h,cc} on the server.
//
// Derived guids (inherited children, copies) are name-based so that every
// client applying the same patch invents the same ids without talking to the
// server: DeriveGuid(a, b) = first 16 bytes of SHA-256(a + "/" + b), shaped as
// a version-5-style UUID. Any change here must change the server too.

import { sha256, toHex } from './sha256';
import type { Guid } from './types';

function format(bytes: Uint8Array): Guid {
  const h = toHex(bytes.subarray(0, 16));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The guid determined by `a` and `b` (e.g. an instance's guid and a base child's guid). */
export function deriveGuid(a: Guid, b: Guid): Guid {
  const d = sha256(`${a}/${b}`).slice(0, 16);
  d[6] = (d[6]! & 0x0f) | 0x50; // version 5 shape: name-based
  d[8] = (d[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return format(d);
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for 36 characters of lowercase hex in the 8-4-4-4-12 shape. */
export function isGuid(s: string): boolean {
  return GUID_RE.test(s);
}

/**
 * A fresh random (version 4) guid for a node the user creates. Randomness is
 * injected so tests can be deterministic; by default it comes from
 * crypto.getRandomValues, present in browsers and Node ≥ 19.
 */
export function newGuid(
  randomBytes: (n: number) => Uint8Array = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
): Guid {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return format(b);
}
