// History: the commits of the branch (newest first) with the branches and
// tags that point at them, and the runs made at each (run/… tags). Messages
// name nodes as they are called now, the old name beside (names.ts). Open any
// commit read-only, restore it (one new commit: the diff from the head to it,
// applied as a patch), start a branch or a tag from it, compare two commits
// (the diff as readable changes), or merge another branch into this one
// (MergePanel).
import { lazy, Suspense, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Commit, DiffResponse, KilnClient, ProjectDetail } from '@kiln/client';
import type { Tree } from '../model';
import { navigate, projectHref } from '../router';
import { Dialog } from '../ui/Dialog';
import { dateTime, describeError, shortId, timeAgo } from '../ui/format';
import { describeOps, type Change } from './describe';
import type { Segment } from './names';
import { useNamesNow } from './useNamesNow';
import { BranchIcon, TagIcon } from '../ui/icons';
import { MergePanel } from './MergePanel';

// Architectures compared layer by layer (shapes, parameter counts): the architecture chunk.
const ArchitectureDiffs = lazy(() => import('../architecture/ArchitectureDiffs'));

const NO_COMMITS: readonly Commit[] = [];
const RUN_TAG = 'run/';

/** A message with names as now: the old name beside a renamed node's new one. */
function Message({ segments }: { segments: readonly Segment[] }) {
  return (
    <>
      {segments.map((s, i) =>
        typeof s === 'string' ? (
          <span key={i}>{s}</span>
        ) : (
          <span key={i} className="name-now" title={`Called “${s.then}” at the time`}>
            {s.now} <span className="muted small">(then {s.then})</span>
          </span>
        ),
      )}
    </>
  );
}

type Load = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; commits: readonly Commit[] };

export function HistoryView({
  client,
  project,
  branch,
  detail,
  onRefsChanged,
  notify,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  detail: ProjectDetail | null;
  onRefsChanged: () => void;
  notify: (kind: 'error' | 'info', text: string) => void;
}) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const [compare, setCompare] = useState<string[]>([]);
  const [dialog, setDialog] = useState<{ kind: 'branch' | 'tag'; commit: Commit } | null>(null);
  const [diff, setDiff] = useState<{ from: string; to: string } | null>(null);
  const [merging, setMerging] = useState(false);
  const [restore, setRestore] = useState<Commit | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    setLoad({ kind: 'loading' });
    client.listCommits(project, { ref: branch, limit: 200 }, abort.signal).then(
      (commits) => setLoad({ kind: 'ready', commits }),
      (e: unknown) => {
        if (!abort.signal.aborted) setLoad({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, branch, reloads]);

  const labels = useMemo(() => {
    const m = new Map<string, { kind: 'branch' | 'tag'; name: string }[]>();
    for (const b of detail?.branches ?? []) m.set(b.commit, [...(m.get(b.commit) ?? []), { kind: 'branch', name: b.name }]);
    for (const t of detail?.tags ?? []) m.set(t.commit, [...(m.get(t.commit) ?? []), { kind: 'tag', name: t.name }]);
    return m;
  }, [detail]);

  const toggle = (c: string) =>
    setCompare((cur) => (cur.includes(c) ? cur.filter((x) => x !== c) : [...cur, c].slice(-2)));

  const commits = load.kind === 'ready' ? load.commits : NO_COMMITS;
  const namesNow = useNamesNow(client, project, commits);
  const order = new Map(commits.map((c, i) => [c.commit, i]));
  const startCompare = () => {
    if (compare.length !== 2) return;
    // Older first: the diff reads as "what happened since".
    const [a, b] = [...compare].sort((x, y) => (order.get(y) ?? 0) - (order.get(x) ?? 0));
    setDiff({ from: a!, to: b! });
  };

  return (
    <div className="page-pane history">
      <div className="pane-head">
        <div>
          <h2>History</h2>
          <p className="muted small">
            Commits on <strong>{branch}</strong>, newest first. Every edit is a commit.
          </p>
        </div>
        <div className="toolbar-group">
          <button type="button" className="secondary" disabled={compare.length !== 2} onClick={startCompare} data-testid="compare">
            Compare {compare.length}/2
          </button>
          <button type="button" className="secondary" onClick={() => setMerging(true)} data-testid="merge-open">
            Merge…
          </button>
          <button type="button" className="secondary" onClick={() => setReloads((n) => n + 1)}>
            Refresh
          </button>
        </div>
      </div>

      <div className="refs">
        <div className="refs-group">
          <span className="refs-title">Branches</span>
          {(detail?.branches ?? []).map((b) => (
            <a
              key={b.name}
              className={`ref-chip branch ${b.name === branch ? 'current' : ''}`}
              href={projectHref(project, { kind: 'history' }, { branch: b.name })}
              title={`${b.name} at ${shortId(b.commit)}`}
            >
              <BranchIcon /> {b.name}
            </a>
          ))}
        </div>
        <div className="refs-group">
          <span className="refs-title">Tags</span>
          {(detail?.tags ?? []).filter((t) => !t.name.startsWith(RUN_TAG)).length === 0 && (
            <span className="muted small">none yet</span>
          )}
          {(detail?.tags ?? []).filter((t) => !t.name.startsWith(RUN_TAG)).map((t) => (
            <a
              key={t.name}
              className="ref-chip tag"
              href={projectHref(project, { kind: 'home' }, { branch, at: t.commit })}
              title={`Open ${t.name} (${shortId(t.commit)}) read-only`}
            >
              <TagIcon /> {t.name}
            </a>
          ))}
        </div>
      </div>

      {merging && (
        <MergePanel
          key={branch}
          client={client}
          project={project}
          branch={branch}
          onClose={() => setMerging(false)}
          onMerged={() => {
            onRefsChanged();
            setReloads((n) => n + 1);
          }}
          notify={notify}
        />
      )}

      {diff && <DiffPanel client={client} project={project} from={diff.from} to={diff.to} onClose={() => setDiff(null)} />}

      {load.kind === 'loading' && <p className="state">Loading commits…</p>}
      {load.kind === 'error' && (
        <div className="state error" role="alert">
          Could not load the history: {load.message}
        </div>
      )}
      {load.kind === 'ready' && (
        <ol className="commit-list" data-testid="commits">
          {commits.map((c, i) => (
            <li key={c.commit} className={`commit ${compare.includes(c.commit) ? 'picked' : ''}`} data-testid="commit">
              <label className="commit-pick" title="Pick for comparison">
                <input type="checkbox" checked={compare.includes(c.commit)} onChange={() => toggle(c.commit)} />
              </label>
              <div className="commit-rail" aria-hidden="true">
                <span className="commit-dot" />
                {i < commits.length - 1 && <span className="commit-line" />}
              </div>
              <div className="commit-main">
                <div className="commit-message">
                  {c.message ? <Message segments={namesNow.get(c.commit) ?? [c.message]} /> : <span className="muted">(no message)</span>}
                  {(labels.get(c.commit) ?? []).map((l) =>
                    l.kind === 'tag' && l.name.startsWith(RUN_TAG) ? (
                      <a
                        key={l.kind + l.name}
                        className="ref-chip small tag run"
                        href={projectHref(project, { kind: 'execution', id: l.name.slice(RUN_TAG.length) }, { branch })}
                        title={`Execution ${l.name.slice(RUN_TAG.length)} ran this version`}
                        data-testid="run-tag"
                      >
                        ▶ run {shortId(l.name.slice(RUN_TAG.length))}
                      </a>
                    ) : (
                      <span key={l.kind + l.name} className={`ref-chip small ${l.kind}`}>
                        {l.kind === 'branch' ? <BranchIcon /> : <TagIcon />} {l.name}
                      </span>
                    ),
                  )}
                </div>
                <div className="commit-meta muted small">
                  <span className="mono">{shortId(c.commit)}</span> · {c.author} ·{' '}
                  <span title={dateTime(c.time_ms)}>{timeAgo(c.time_ms)}</span>
                  {c.parents.length > 1 && <> · merge</>}
                </div>
              </div>
              <div className="commit-actions">
                <a
                  className="button secondary small"
                  href={projectHref(project, { kind: 'home' }, { branch, at: c.commit })}
                  data-testid="view-commit"
                >
                  View
                </a>
                {i > 0 && (
                  <button type="button" className="secondary small" onClick={() => setRestore(c)} data-testid="restore-commit">
                    Restore…
                  </button>
                )}
                <button
                  type="button"
                  className="secondary small"
                  onClick={() => setDialog({ kind: 'branch', commit: c })}
                  title="Start a branch at this commit"
                >
                  Branch from here…
                </button>
                <button type="button" className="ghost small" onClick={() => setDialog({ kind: 'tag', commit: c })}>
                  Tag…
                </button>
              </div>
            </li>
          ))}
        </ol>
      )}

      {restore && commits[0] && (
        <RestoreDialog
          commit={restore}
          branch={branch}
          onClose={() => setRestore(null)}
          restore={async () => {
            // The head now, not when the list loaded: the patch must be the diff from it.
            const head = (await client.listCommits(project, { ref: branch, limit: 1 }))[0]?.commit ?? commits[0]!.commit;
            const d = await client.diff(project, head, restore.commit);
            if (d.ops.length === 0) return false;
            await client.postPatch(project, branch, {
              base: head,
              message: `Restore the version of ${shortId(restore.commit)} (${restore.message || 'no message'})`,
              ops: d.ops,
            });
            return true;
          }}
          onDone={(changed) => {
            setRestore(null);
            notify('info', changed ? `Restored ${shortId(restore.commit)} as a new commit on ${branch}` : 'Nothing to restore: the branch is already at that version');
            onRefsChanged();
            setReloads((n) => n + 1);
          }}
        />
      )}

      {dialog && (
        <RefDialog
          kind={dialog.kind}
          commit={dialog.commit}
          onClose={() => setDialog(null)}
          create={async (name) => {
            if (dialog.kind === 'branch') await client.createBranch(project, { name, from: dialog.commit.commit });
            else await client.createTag(project, { name, ref: dialog.commit.commit });
          }}
          onCreated={(name) => {
            setDialog(null);
            onRefsChanged();
            if (dialog.kind === 'branch') {
              notify('info', `Created branch ${name} from ${shortId(dialog.commit.commit)}`);
              navigate(projectHref(project, { kind: 'home' }, { branch: name }));
            } else notify('info', `Tagged ${shortId(dialog.commit.commit)} as ${name}`);
          }}
        />
      )}
    </div>
  );
}

function RestoreDialog({
  commit,
  branch,
  onClose,
  restore,
  onDone,
}: {
  commit: Commit;
  branch: string;
  onClose: () => void;
  restore: () => Promise<boolean>;
  onDone: (changed: boolean) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      onDone(await restore());
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Restore this version"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" onClick={() => void run()} disabled={busy} data-testid="restore-confirm">
            {busy ? 'Restoring…' : 'Restore'}
          </button>
        </>
      }
    >
      <p>
        Bring <strong>{branch}</strong> back to <span className="mono">{shortId(commit.commit)}</span> “{commit.message}”. This
        adds one new commit; the history after it stays, and the restore can itself be undone by restoring again.
      </p>
      {error && (
        <p className="form-error" role="alert">
          Could not restore: {error}
        </p>
      )}
    </Dialog>
  );
}

function RefDialog({
  kind,
  commit,
  onClose,
  create,
  onCreated,
}: {
  kind: 'branch' | 'tag';
  commit: Commit;
  onClose: () => void;
  create: (name: string) => Promise<void>;
  onCreated: (name: string) => void;
}) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    const n = name.trim();
    if (!n) return;
    setBusy(true);
    setError(null);
    try {
      await create(n);
      onCreated(n);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={kind === 'branch' ? 'New branch' : 'New tag'}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" onClick={() => void submit()} disabled={busy || !name.trim()} data-testid="ref-create">
            {busy ? 'Creating…' : kind === 'branch' ? 'Create branch' : 'Create tag'}
          </button>
        </>
      }
    >
      <form onSubmit={submit}>
        <p>
          {kind === 'branch' ? 'Start a branch' : 'Tag the commit'} at <span className="mono">{shortId(commit.commit)}</span>{' '}
          “{commit.message}”.
        </p>
        <label className="field">
          <span>Name</span>
          <input
            autoFocus
            name="ref-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder={kind === 'branch' ? 'e.g. smaller-model' : 'e.g. v1.0'}
          />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}

function DiffPanel({
  client,
  project,
  from,
  to,
  onClose,
}: {
  client: KilnClient;
  project: string;
  from: string;
  to: string;
  onClose: () => void;
}) {
  const [state, setState] = useState<
    | { kind: 'loading' }
    | { kind: 'error'; message: string }
    | { kind: 'ready'; changes: Change[]; diff: DiffResponse; before: Tree; after: Tree }
  >({ kind: 'loading' });
  useEffect(() => {
    const abort = new AbortController();
    setState({ kind: 'loading' });
    Promise.all([
      client.diff(project, from, to, abort.signal),
      client.getTree(project, from, abort.signal),
      client.getTree(project, to, abort.signal),
    ]).then(
      ([diff, a, b]) =>
        setState({ kind: 'ready', diff, changes: describeOps(diff.ops, a.tree as Tree, b.tree as Tree), before: a.tree as Tree, after: b.tree as Tree }),
      (e: unknown) => {
        if (!abort.signal.aborted) setState({ kind: 'error', message: describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, from, to]);
  return (
    <section className="card diff" aria-label="Changes" data-testid="diff">
      <div className="pane-head">
        <h3>
          Changes from <span className="mono">{shortId(from)}</span> to <span className="mono">{shortId(to)}</span>
        </h3>
        <button type="button" className="ghost" onClick={onClose} aria-label="Close the comparison">
          ×
        </button>
      </div>
      {state.kind === 'loading' && <p className="muted">Comparing…</p>}
      {state.kind === 'error' && (
        <p className="form-error" role="alert">
          Could not compare: {state.message}
        </p>
      )}
      {state.kind === 'ready' && state.changes.length === 0 && <p className="muted">No differences.</p>}
      {state.kind === 'ready' && state.changes.length > 0 && (
        <ul className="change-list">
          {state.changes.map((c, i) => (
            <li key={i} className={`change ${c.kind}`}>
              <span className="change-mark" aria-hidden="true">
                {c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : c.kind === 'moved' ? '↔' : '~'}
              </span>
              <span>
                {c.text}
                {c.detail && <span className="muted"> — {c.detail}</span>}
              </span>
            </li>
          ))}
        </ul>
      )}
      {state.kind === 'ready' && state.changes.length > 0 && (
        <Suspense fallback={null}>
          <ArchitectureDiffs client={client} before={state.before} after={state.after} />
        </Suspense>
      )}
    </section>
  );
}
