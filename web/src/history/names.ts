// Names as they are now, in commit messages written with the names of then.
// "Edit the code of Train" reads wrong once Train is called Fit; the history
// shows "Edit the code of Fit (then Train)". From each commit's own ops (GET
// diff parent → commit) and the names before the oldest of them, the names
// after every commit are replayed; a node a commit touched whose name then
// differs from its name now, and whose old name the message spells, is
// replaced in the message. Pure.

import type { Guid, JsonValue, Op } from '../model';

export type Names = ReadonlyMap<Guid, string>;

export interface CommitOps {
  readonly commit: string;
  readonly ops: readonly Op[];
}

const nameValue = (v: JsonValue | undefined) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The nodes an op is about (for a create, the new node). */
export function touched(op: Op): Guid[] {
  switch (op.op) {
    case 'create':
    case 'copy':
      return [op.guid];
    default:
      return [op.node];
  }
}

/**
 * The names after each commit, replayed from `before` (the names before the
 * oldest commit) over `commits` given oldest first. A node created without a
 * name, or whose name was removed, keeps no entry.
 */
export function replayNames(before: Names, commits: readonly CommitOps[]): Map<string, Names> {
  const out = new Map<string, Names>();
  let names = new Map(before);
  for (const c of commits) {
    names = new Map(names);
    for (const op of c.ops) {
      if (op.op === 'create') {
        const n = nameValue(op.attrs?.['name']);
        if (n) names.set(op.guid, n);
      } else if (op.op === 'set_attr' && op.name === 'name') {
        const n = nameValue(op.value);
        if (n) names.set(op.node, n);
      } else if ((op.op === 'del_attr' && op.name === 'name') || op.op === 'delete') names.delete(op.node);
    }
    out.set(c.commit, names);
  }
  return out;
}

/** A piece of a message: plain text, or a node's name now with the name it had then. */
export type Segment = string | { readonly now: string; readonly then: string };

/** `message` with each `then` name (as a whole word) shown as its name now. */
export function renameSegments(message: string, renames: readonly { readonly then: string; readonly now: string }[]): Segment[] {
  const useful = renames.filter((r) => r.then !== r.now && r.then !== '');
  if (useful.length === 0) return [message];
  // Longest first, so "Train 2" wins over "Train".
  const sorted = [...useful].sort((a, b) => b.then.length - a.then.length);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(${sorted.map((r) => escape(r.then)).join('|')})(?![\\p{L}\\p{N}_])`, 'gu');
  const byThen = new Map(sorted.map((r) => [r.then, r.now] as const));
  const out: Segment[] = [];
  let at = 0;
  for (const m of message.matchAll(re)) {
    if (m.index > at) out.push(message.slice(at, m.index));
    out.push({ now: byThen.get(m[1]!)!, then: m[1]! });
    at = m.index + m[0].length;
  }
  if (at < message.length) out.push(message.slice(at));
  return out;
}

/**
 * The message of a commit with names as now: for each node its ops touched,
 * its names before and after the commit (`then`: a message may use either)
 * shown as its name now where they differ. A node the commit renames keeps
 * its names as written: "Rename Score to Assess" is about those two names,
 * and "Rename Score to Score (then Assess)" would read as nonsense.
 */
export function messageNow(message: string, ops: readonly Op[], then: readonly Names[], now: Names): Segment[] {
  const renames: Array<{ then: string; now: string }> = [];
  const seen = new Set<Guid>();
  const renamedHere = new Set(ops.flatMap((op) => (op.op === 'set_attr' && op.name === 'name' ? [op.node] : [])));
  for (const op of ops)
    for (const g of touched(op)) {
      if (seen.has(g)) continue;
      seen.add(g);
      const b = now.get(g);
      if (b === undefined || renamedHere.has(g)) continue;
      for (const names of then) {
        const a = names.get(g);
        if (a !== undefined && a !== b && !renames.some((r) => r.then === a)) renames.push({ then: a, now: b });
      }
    }
  return renameSegments(message, renames);
}
