// "Compare lineage with…": picks the second artifact from the project's
// artifacts (candidates.ts orders them) and opens the compare view.
import { useEffect, useMemo, useState } from 'react';
import type { Artifact, KilnClient } from '@kiln/client';
import { navigate, projectHref } from '../router';
import { Dialog } from '../ui/Dialog';
import { describeError, timeAgo } from '../ui/format';
import { compareCandidates } from './candidates';

export function CompareDialog({
  client,
  project,
  branch,
  digest,
  name,
  artifacts: given,
  onClose,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  digest: string;
  /** What the first artifact is called (for the title). */
  name: string;
  /** The project's artifacts when the caller has them; else they are fetched. */
  artifacts?: readonly Artifact[] | undefined;
  onClose: () => void;
}) {
  const [artifacts, setArtifacts] = useState<readonly Artifact[] | null>(given ?? null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  useEffect(() => {
    if (given) return;
    const abort = new AbortController();
    client.listArtifacts(project, branch, abort.signal).then(setArtifacts, (e: unknown) => {
      if (!abort.signal.aborted) setError(describeError(e));
    });
    return () => abort.abort();
  }, [client, project, branch, given]);
  const candidates = useMemo(() => (artifacts ? compareCandidates(artifacts, digest, query) : []), [artifacts, digest, query]);
  const pick = (other: string) => {
    onClose();
    navigate(projectHref(project, { kind: 'lineage', digest, compare: other }, { branch }));
  };
  return (
    <Dialog
      title={`Compare the lineage of ${name} with…`}
      onClose={onClose}
      actions={
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      }
    >
      <label className="field">
        <span>Find an artifact</span>
        <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="name, digest, job or user" autoFocus data-testid="compare-filter" />
      </label>
      {error && (
        <p className="form-error" role="alert">
          Could not list the artifacts: {error}
        </p>
      )}
      {!artifacts && !error && <p className="muted">Loading the artifacts…</p>}
      {artifacts && candidates.length === 0 && <p className="muted">No other artifact{query ? ' matches' : ''}.</p>}
      <ul className="lineage-candidates" data-testid="compare-candidates">
        {candidates.map((c) => (
          <li key={c.digest}>
            <button type="button" className="lineage-candidate" onClick={() => pick(c.digest)} data-testid={`compare-with-${c.digest}`}>
              <strong>{c.name}</strong> <code title={c.digest}>{c.digest.slice(0, 10)}</code>
              <span className="muted small">
                {c.origin}
                {c.createdMs > 0 && ` · ${timeAgo(c.createdMs)}`}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
