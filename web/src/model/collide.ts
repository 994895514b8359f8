// collide: what a save does when the stored value moved while the user was
// editing it. The server never refuses a stale write (per-field last writer
// wins, docs/protocol.md), so the editor must notice the collision itself and
// ask instead of silently overwriting someone else's change.
//
// Three values: `base` (what the user's edit started from), `theirs` (what is
// stored now), `mine` (what the user wants to save). Used for an operation's
// code (OperationEditor) and for one attribute (the pipeline Inspector).
//
// For text, `merge3` is a line-based three-way merge (the diff3 idea: lines
// both sides kept from the base anchor the merge; between anchors a side that
// did not change takes the other's change, and where both changed differently
// it is a conflict). It feeds the three-way view and a clean "keep both".
// Pure: no React, no network.

import { jsonEqual } from './invert';
import type { JsonValue } from './types';

export type SaveDecision =
  /** Nobody else changed it (or they made the same change): write mine. */
  | { readonly kind: 'save' }
  /** Mine already equals what is stored: nothing to write. */
  | { readonly kind: 'nothing' }
  /** Someone else changed it to something else: the user must choose. */
  | { readonly kind: 'ask' };

export function decideSave<T extends JsonValue>(base: T, theirs: T, mine: T): SaveDecision {
  if (jsonEqual(mine, theirs)) return { kind: 'nothing' };
  if (jsonEqual(theirs, base)) return { kind: 'save' };
  return { kind: 'ask' };
}

export type MergeHunk =
  | { readonly kind: 'same'; readonly lines: readonly string[] }
  /** Only one side (or both alike) changed these lines: taken as `lines`. */
  | { readonly kind: 'changed'; readonly by: 'mine' | 'theirs' | 'both'; readonly base: readonly string[]; readonly lines: readonly string[] }
  | {
      readonly kind: 'conflict';
      readonly base: readonly string[];
      readonly theirs: readonly string[];
      readonly mine: readonly string[];
    };

export interface Merge3 {
  readonly hunks: readonly MergeHunk[];
  readonly conflicts: number;
  /** The merged text; conflicts between markers (see CONFLICT_MARKERS). */
  readonly text: string;
}

/** Above this many line pairs the LCS is not computed: the whole text is one conflict. */
const MAX_CELLS = 4_000_000;

export const CONFLICT_MARKERS = { mine: '<<<<<<< mine', split: '=======', theirs: '>>>>>>> theirs' } as const;

/** Whether `text` still holds a conflict marker line from merge3. */
export function hasConflictMarkers(text: string): boolean {
  return text.split('\n').some((l) => l === CONFLICT_MARKERS.mine || l === CONFLICT_MARKERS.theirs);
}

/** For each line of `a`, the index of the line of `b` it is matched with (LCS), or -1. */
function matchLines(a: readonly string[], b: readonly string[]): Int32Array | null {
  // Common head and tail are matched directly; the LCS runs on the middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out = new Int32Array(a.length).fill(-1);
  for (let i = 0; i < head; i++) out[i] = i;
  for (let k = 1; k <= tail; k++) out[a.length - k] = b.length - k;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  if (n === 0 || m === 0) return out;
  if (n * m > MAX_CELLS) return null;
  // lcs[i][j] = LCS length of a[head+i..] and b[head+j..], row-major (n+1)×(m+1).
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * w + j] =
        a[head + i] === b[head + j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[head + i] === b[head + j]) {
      out[head + i] = head + j;
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) i++;
    else j++;
  }
  return out;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function merge3(base: string, theirs: string, mine: string): Merge3 {
  const o = base.split('\n');
  const t = theirs.split('\n');
  const m = mine.split('\n');
  const mt = matchLines(o, t);
  const mm = matchLines(o, m);
  const hunks: MergeHunk[] = [];
  const push = (h: MergeHunk) => {
    const last = hunks[hunks.length - 1];
    if (h.kind === 'same' && last?.kind === 'same') hunks[hunks.length - 1] = { kind: 'same', lines: [...last.lines, ...h.lines] };
    else if (h.kind !== 'same' || h.lines.length > 0) hunks.push(h);
  };
  const chunk = (ob: string[], tb: string[], mb: string[]) => {
    if (ob.length === 0 && tb.length === 0 && mb.length === 0) return;
    if (same(tb, mb)) push(same(ob, tb) ? { kind: 'same', lines: tb } : { kind: 'changed', by: 'both', base: ob, lines: tb });
    else if (same(ob, tb)) push({ kind: 'changed', by: 'mine', base: ob, lines: mb });
    else if (same(ob, mb)) push({ kind: 'changed', by: 'theirs', base: ob, lines: tb });
    else push({ kind: 'conflict', base: ob, theirs: tb, mine: mb });
  };
  if (!mt || !mm) chunk(o, t, m);
  else {
    let i = 0;
    let a = 0;
    let b = 0;
    while (i < o.length || a < t.length || b < m.length) {
      // The next base line kept by both sides: an anchor.
      let k = i;
      while (k < o.length && (mt[k]! < 0 || mm[k]! < 0)) k++;
      if (k === i && k < o.length && mt[k] === a && mm[k] === b) {
        push({ kind: 'same', lines: [o[k]!] });
        i++;
        a++;
        b++;
        continue;
      }
      const ta = k < o.length ? mt[k]! : t.length;
      const mb = k < o.length ? mm[k]! : m.length;
      chunk(o.slice(i, k), t.slice(a, ta), m.slice(b, mb));
      i = k;
      a = ta;
      b = mb;
    }
  }
  const out: string[] = [];
  let conflicts = 0;
  for (const h of hunks) {
    if (h.kind !== 'conflict') out.push(...h.lines);
    else {
      conflicts++;
      out.push(CONFLICT_MARKERS.mine, ...h.mine, CONFLICT_MARKERS.split, ...h.theirs, CONFLICT_MARKERS.theirs);
    }
  }
  return { hunks, conflicts, text: out.join('\n') };
}
