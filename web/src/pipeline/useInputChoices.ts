// The artifacts an Input can read, for the palette and the inspector: the
// tree's Artifact nodes at once, and the server's list (job outputs too)
// when a source is given, asked again whenever the tree gains or loses an
// Artifact node (an upload, an execution's outputs) or `refresh` is called.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Artifact } from '@kiln/client';
import type { ArtifactSource } from '../artifacts/source';
import type { Tree } from '../model';
import { inputChoices, type InputChoice } from './data';
import { artifactChoices } from './model';

export function useInputChoices(tree: Tree, source: ArtifactSource | undefined): { choices: InputChoice[]; refresh: () => void } {
  const nodes = useMemo(() => artifactChoices(tree), [tree]);
  const [listed, setListed] = useState<readonly Artifact[]>([]);
  const [tick, setTick] = useState(0);
  const key = nodes.map((n) => n.digest).join(',');
  useEffect(() => {
    if (!source) return;
    const abort = new AbortController();
    source.list(abort.signal).then(
      (list) => !abort.signal.aborted && setListed(list),
      () => {
        /* the tree's nodes are still listed */
      },
    );
    return () => abort.abort();
  }, [source, key, tick]);
  const choices = useMemo(() => inputChoices(nodes, listed), [nodes, listed]);
  const refresh = useCallback(() => setTick((n) => n + 1), []);
  return { choices, refresh };
}
