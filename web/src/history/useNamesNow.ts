// Loads what names.ts needs for the newest commits of the history: each
// commit's own ops (GET diff first parent → commit), the names before the
// oldest of them and the names at the newest (two trees). Older commits keep
// their message as written; so does every commit while this loads or when it
// fails (the history is still usable without it).
import { useEffect, useState } from 'react';
import type { Commit, KilnClient } from '@kiln/client';
import { effectiveAttr, type Guid, type Tree } from '../model';
import { messageNow, replayNames, type CommitOps, type Names, type Segment } from './names';

/** How many of the newest commits get names as now (one diff request each). */
const WINDOW = 30;
const PARALLEL = 4;

function namesOf(tree: Tree): Names {
  const out = new Map<Guid, string>();
  for (const guid of Object.keys(tree.nodes)) {
    const n = effectiveAttr(tree, guid, 'name');
    if (typeof n === 'string' && n !== '') out.set(guid, n);
  }
  return out;
}

export function useNamesNow(client: KilnClient, project: string, commits: readonly Commit[]): ReadonlyMap<string, Segment[]> {
  const [result, setResult] = useState<ReadonlyMap<string, Segment[]>>(new Map());
  useEffect(() => {
    const recent = commits.slice(0, WINDOW).filter((c) => c.parents.length > 0);
    if (recent.length === 0) return;
    const abort = new AbortController();
    const oldest = recent[recent.length - 1]!;
    (async () => {
      const [head, before] = await Promise.all([
        client.getTree(project, commits[0]!.commit, abort.signal),
        client.getTree(project, oldest.parents[0]!, abort.signal),
      ]);
      const ops = new Map<string, CommitOps>();
      const queue = [...recent];
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          for (let c = queue.shift(); c; c = queue.shift()) {
            const d = await client.diff(project, c.parents[0]!, c.commit, abort.signal);
            ops.set(c.commit, { commit: c.commit, ops: d.ops });
          }
        }),
      );
      const oldestFirst = [...recent].reverse().map((c) => ops.get(c.commit)!);
      const beforeNames = namesOf(before.tree as Tree);
      const after = replayNames(beforeNames, oldestFirst);
      const now = namesOf(head.tree as Tree);
      const out = new Map<string, Segment[]>();
      oldestFirst.forEach((c, i) => {
        const prev = i === 0 ? beforeNames : after.get(oldestFirst[i - 1]!.commit)!;
        const message = recent.find((r) => r.commit === c.commit)!.message;
        out.set(c.commit, messageNow(message, c.ops, [prev, after.get(c.commit)!], now));
      });
      if (!abort.signal.aborted) setResult(out);
    })().catch(() => {
      // Messages stay as written.
    });
    return () => abort.abort();
  }, [client, project, commits]);
  return result;
}
