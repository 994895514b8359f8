// "Merge…" in the history view: pick a branch to merge into the current one,
// see what it brings (its commits and changes since the branches split),
// merge. When the server answers with conflicts (409: nothing changed), list
// each one in words and let the user keep one side per conflict, which edits
// one branch so that both agree (see conflicts.ts), then merge again.
import { useEffect, useState } from 'react';
import type { Branch, Commit, KilnClient, MergeConflict } from '@kiln/client';
import type { Tree } from '../model';
import { describeError, shortId } from '../ui/format';
import { describeConflicts, resolution, type ConflictView, type Side } from './conflicts';
import { describeOps, type Change } from './describe';

type Preview =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; commits: readonly Commit[]; changes: readonly Change[] | null };

type Outcome =
  | { kind: 'idle' }
  | { kind: 'merging' }
  | { kind: 'error'; message: string }
  | { kind: 'conflicts'; conflicts: readonly MergeConflict[]; views: readonly ConflictView[] };

export function MergePanel({
  client,
  project,
  branch,
  onMerged,
  onClose,
  notify,
}: {
  client: KilnClient;
  project: string;
  /** The current branch: what the merge goes into ("ours"). */
  branch: string;
  onMerged: () => void;
  onClose: () => void;
  notify: (kind: 'error' | 'info', text: string) => void;
}) {
  // Its own list: branches made elsewhere (another browser, the CLI) count.
  const [branches, setBranches] = useState<readonly Branch[] | null>(null);
  const [source, setSource] = useState('');
  useEffect(() => {
    const abort = new AbortController();
    client.listBranches(project, abort.signal).then(
      (bs) => {
        setBranches(bs);
        setSource((cur) => cur || (bs.find((b) => b.name !== branch)?.name ?? ''));
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setPreview({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, branch]);
  const others = (branches ?? []).filter((b) => b.name !== branch);
  const [preview, setPreview] = useState<Preview>({ kind: 'loading' });
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const [resolved, setResolved] = useState<ReadonlyMap<number, Side>>(new Map());
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    if (!source) return;
    const abort = new AbortController();
    setPreview({ kind: 'loading' });
    setOutcome({ kind: 'idle' });
    loadPreview(client, project, branch, source, abort.signal).then(setPreview, (e: unknown) => {
      if (!abort.signal.aborted) setPreview({ kind: 'error', message: describeError(e) });
    });
    return () => abort.abort();
  }, [client, project, branch, source, reloads]);

  const merge = async () => {
    setOutcome({ kind: 'merging' });
    setResolved(new Map());
    try {
      const r = await client.merge(project, { from: source, into: branch });
      if (r.kind === 'merged') {
        setOutcome({ kind: 'idle' });
        notify('info', r.upToDate ? `${branch} already has everything on ${source}` : `Merged ${source} into ${branch}`);
        onMerged();
        setReloads((n) => n + 1);
        return;
      }
      // Names come from both heads; a tree that cannot be read only costs names.
      const [ours, theirs] = await Promise.all([
        client.getTree(project, branch).then((t) => t.tree as Tree, () => null),
        client.getTree(project, source).then((t) => t.tree as Tree, () => null),
      ]);
      setOutcome({ kind: 'conflicts', conflicts: r.conflicts, views: describeConflicts(r.conflicts, ours, theirs) });
    } catch (e) {
      setOutcome({ kind: 'error', message: describeError(e) });
    }
  };

  const keep = async (i: number, side: Side) => {
    if (outcome.kind !== 'conflicts') return;
    const conflict = outcome.conflicts[i]!;
    const view = outcome.views[i]!;
    const fix = resolution(conflict, side);
    if (!fix) return;
    const target = fix.branch === 'into' ? branch : source;
    try {
      await client.postPatch(project, target, {
        message: `Resolve a merge conflict: ${view.field} of ${view.path} as on ${side === 'ours' ? branch : source}`,
        ops: fix.ops,
      });
      setResolved((m) => new Map(m).set(i, side));
      onMerged(); // the branch heads moved
    } catch (e) {
      notify('error', `Could not resolve: ${describeError(e)}`);
    }
  };

  if (branches === null)
    return (
      <section className="card merge" aria-label="Merge" data-testid="merge">
        <PanelHead title="Merge" onClose={onClose} />
        {preview.kind === 'error' ? (
          <p className="form-error" role="alert">
            Could not list the branches: {preview.message}
          </p>
        ) : (
          <p className="muted">Loading branches…</p>
        )}
      </section>
    );
  if (others.length === 0)
    return (
      <section className="card merge" aria-label="Merge" data-testid="merge">
        <PanelHead title="Merge" onClose={onClose} />
        <p className="muted">There is no other branch to merge. Start one with “Branch…” on a commit.</p>
      </section>
    );

  const allResolved = outcome.kind === 'conflicts' && outcome.views.every((v, i) => !v.resolvable || resolved.has(i));

  return (
    <section className="card merge" aria-label="Merge" data-testid="merge">
      <PanelHead title={`Merge into ${branch}`} onClose={onClose} />
      <div className="merge-pick">
        <label className="field inline">
          <span>From branch</span>
          <select value={source} onChange={(e) => setSource(e.target.value)} data-testid="merge-source" aria-label="Branch to merge">
            {others.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => void merge()}
          disabled={outcome.kind === 'merging' || preview.kind !== 'ready' || preview.commits.length === 0}
          data-testid="merge-run"
        >
          {outcome.kind === 'merging' ? 'Merging…' : outcome.kind === 'conflicts' ? 'Merge again' : `Merge ${source} into ${branch}`}
        </button>
      </div>

      {preview.kind === 'loading' && <p className="muted">Looking at {source}…</p>}
      {preview.kind === 'error' && (
        <p className="form-error" role="alert">
          Could not compare the branches: {preview.message}
        </p>
      )}
      {preview.kind === 'ready' && preview.commits.length === 0 && (
        <p className="muted" data-testid="merge-nothing">
          {branch} already has every commit of {source}: nothing to merge.
        </p>
      )}
      {preview.kind === 'ready' && preview.commits.length > 0 && outcome.kind !== 'conflicts' && (
        <div className="merge-preview" data-testid="merge-preview">
          <p>
            {preview.commits.length} commit{preview.commits.length > 1 ? 's' : ''} on {source} that {branch} does not have:
          </p>
          <ul className="plain-list small">
            {preview.commits.slice(0, 8).map((c) => (
              <li key={c.commit}>
                <span className="mono muted">{shortId(c.commit)}</span> {c.message || '(no message)'} <span className="muted">· {c.author}</span>
              </li>
            ))}
            {preview.commits.length > 8 && <li className="muted">and {preview.commits.length - 8} more</li>}
          </ul>
          {preview.changes && preview.changes.length > 0 && (
            <>
              <p>What they change:</p>
              <ul className="change-list">
                {preview.changes.map((c, i) => (
                  <li key={i} className={`change ${c.kind}`}>
                    {c.text}
                    {c.detail && <span className="muted"> — {c.detail}</span>}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}

      {outcome.kind === 'error' && (
        <p className="form-error" role="alert">
          Could not merge: {outcome.message}
        </p>
      )}
      {outcome.kind === 'conflicts' && (
        <div className="conflicts" data-testid="conflicts">
          <p role="alert" className="conflict-intro">
            <strong>
              {outcome.views.length} conflict{outcome.views.length > 1 ? 's' : ''}: nothing was merged.
            </strong>{' '}
            Since the branches split, both changed the same field{outcome.views.length > 1 ? 's' : ''} differently. Keep one value for each:
            keeping {branch}’s sets it on {source} too, taking {source}’s sets it on {branch}. Then merge again.
          </p>
          <ul className="conflict-list">
            {outcome.views.map((v, i) => (
              <li key={i} className="conflict-item" data-testid="conflict">
                <div>
                  <strong>{v.path}</strong> <span className="muted">({v.type})</span> — {v.field}
                </div>
                <table className="conflict-values">
                  <tbody>
                    <tr>
                      <th>when they split</th>
                      <td>{v.base}</td>
                    </tr>
                    <tr>
                      <th>{branch} (ours)</th>
                      <td data-testid="conflict-ours">{v.ours}</td>
                    </tr>
                    <tr>
                      <th>{source} (theirs)</th>
                      <td data-testid="conflict-theirs">{v.theirs}</td>
                    </tr>
                  </tbody>
                </table>
                {resolved.has(i) ? (
                  <p className="small" data-testid="conflict-resolved">
                    ✓ Kept {resolved.get(i) === 'ours' ? `${branch}’s` : `${source}’s`} value.
                  </p>
                ) : v.resolvable ? (
                  <div className="toolbar-group">
                    <button type="button" className="secondary small" onClick={() => void keep(i, 'ours')}>
                      Keep {branch}’s
                    </button>
                    <button type="button" className="secondary small" onClick={() => void keep(i, 'theirs')}>
                      Take {source}’s
                    </button>
                  </div>
                ) : (
                  <p className="muted small">
                    One side deleted what the other changed: open {branch} or {source}, make them agree (delete it on both, or
                    restore it), then merge again.
                  </p>
                )}
              </li>
            ))}
          </ul>
          {allResolved && <p className="small">Every conflict has a value: merge again.</p>}
        </div>
      )}
    </section>
  );
}

function PanelHead({ title, onClose }: { title: string; onClose: () => void }) {
  return (
    <div className="pane-head">
      <h3>{title}</h3>
      <button type="button" className="ghost" onClick={onClose} aria-label="Close the merge">
        ×
      </button>
    </div>
  );
}

/** The commits `source` has and `into` lacks, and their changes since the split (when the split is in sight). */
async function loadPreview(client: KilnClient, project: string, into: string, source: string, signal: AbortSignal): Promise<Preview> {
  const [theirs, ours] = await Promise.all([
    client.listCommits(project, { ref: source, limit: 200 }, signal),
    client.listCommits(project, { ref: into, limit: 200 }, signal),
  ]);
  const have = new Set(ours.map((c) => c.commit));
  const commits = theirs.filter((c) => !have.has(c.commit));
  const base = theirs.find((c) => have.has(c.commit));
  if (commits.length === 0 || !base) return { kind: 'ready', commits, changes: null };
  const [diff, a, b] = await Promise.all([
    client.diff(project, base.commit, source, signal),
    client.getTree(project, base.commit, signal),
    client.getTree(project, source, signal),
  ]);
  return { kind: 'ready', commits, changes: describeOps(diff.ops, a.tree as Tree, b.tree as Tree) };
}
