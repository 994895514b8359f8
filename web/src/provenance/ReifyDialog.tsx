// "Make a pipeline from this": asks the branch (reify.ts checks the name),
// POSTs reify, shows the server's notes, then opens the new pipeline on its
// branch, where the user can press Run (every job is a cache hit).
import { useEffect, useState } from 'react';
import { ApiError, type KilnClient } from '@kiln/client';
import { navigate, projectHref } from '../router';
import { Dialog } from '../ui/Dialog';
import { describeError } from '../ui/format';
import { reify } from './api';
import { branchNameProblem, defaultBranchName } from './reify';
import type { ReifyResult } from './types';

export function ReifyDialog({
  client,
  project,
  from,
  digest,
  name,
  onClose,
}: {
  client: KilnClient;
  project: string;
  /** The branch the new one starts from. */
  from: string;
  digest: string;
  /** What the artifact is called (the pipeline is named after it). */
  name: string;
  onClose: () => void;
}) {
  const [branches, setBranches] = useState<readonly string[]>([]);
  const [branch, setBranch] = useState(() => defaultBranchName(digest));
  const [touched, setTouched] = useState(false);
  const [pipelineName, setPipelineName] = useState(`Reproduce ${name}`);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<ReifyResult | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    client.listBranches(project, abort.signal).then(
      (bs) => {
        const names = bs.map((b) => b.name);
        setBranches(names);
        // The proposal moves past existing branches until the user types.
        if (!touched) setBranch(defaultBranchName(digest, names));
      },
      () => undefined, // the server's 409 still says it when the name is taken
    );
    return () => abort.abort();
    // Not on `touched`: typing must not refetch the branches.
  }, [client, project, digest]);

  const problem = branchNameProblem(branch, branches);
  async function submit() {
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      setDone(await reify(client, project, digest, { branch, from, name: pipelineName.trim() || `Reproduce ${name}` }));
    } catch (e) {
      setError(e instanceof ApiError && e.status !== 0 ? e.message : describeError(e));
    } finally {
      setBusy(false);
    }
  }
  const open = (r: ReifyResult) => {
    onClose();
    navigate(projectHref(project, { kind: 'pipeline', guid: r.pipeline }, { branch: r.branch }));
  };

  if (done)
    return (
      <Dialog
        title="The pipeline is ready"
        onClose={onClose}
        actions={
          <>
            <button type="button" className="secondary" onClick={onClose}>
              Stay here
            </button>
            <button type="button" onClick={() => open(done)} data-testid="reify-open">
              Open it on {done.branch}
            </button>
          </>
        }
      >
        <p>
          Branch <strong>{done.branch}</strong> has a new pipeline with {Object.keys(done.jobs).length} operation
          {Object.keys(done.jobs).length === 1 ? '' : 's'}, wired as the jobs that made {name}. Run it: every job should come from the cache.
        </p>
        {done.notes.length > 0 && (
          <>
            <p className="muted small">Notes:</p>
            <ul className="reify-notes" data-testid="reify-notes">
              {done.notes.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
          </>
        )}
      </Dialog>
    );
  return (
    <Dialog
      title="Make a pipeline from this"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" onClick={() => void submit()} disabled={busy || problem !== null} data-testid="reify-submit">
            {busy ? 'Creating…' : 'Create the pipeline'}
          </button>
        </>
      }
    >
      <p>
        A new branch from <strong>{from}</strong> gets one commit: a pipeline with an operation per job that made <strong>{name}</strong>,
        with the code and attribute values they ran with, reading the same data.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label className="field">
          <span>Branch</span>
          <input
            value={branch}
            onChange={(e) => {
              setTouched(true);
              setBranch(e.target.value);
            }}
            aria-invalid={problem !== null}
            data-testid="reify-branch"
            autoFocus
          />
        </label>
        {problem && (
          <p className="field-error" role="alert" data-testid="reify-problem">
            {problem}
          </p>
        )}
        <label className="field">
          <span>Pipeline name</span>
          <input value={pipelineName} onChange={(e) => setPipelineName(e.target.value)} />
        </label>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
