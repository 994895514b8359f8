// The artifacts view's storage parts (docs/storage.md, "Several backends"),
// shown when the server has more than one storage backend: the backends a
// row's artifact lives in (badges), its "Copy to…" / "Move to…" select, and
// the project's "new artifacts go to" setting. The choices are computed in
// storage.ts; the server checks who may do what (a move needs write, the
// setting the project's admin) and its refusal is shown as it says it.
import { useEffect, useState } from 'react';
import { ApiError, type Artifact, type KilnClient, type ProjectStorage, type StorageBackend } from '@kiln/client';
import { describeError } from '../ui/format';
import {
  actionMessage,
  actionValue,
  choiceFor,
  chosenBackend,
  copyTargets,
  moveTargets,
  parseAction,
  storageChoices,
  storesOf,
} from './storage';

function message(e: unknown): string {
  return e instanceof ApiError && e.status !== 0 ? e.message : describeError(e);
}

/** The server's storage backends; [] until known, or from a server without the route. */
export function useStorageBackends(client: KilnClient): readonly StorageBackend[] {
  const [backends, setBackends] = useState<readonly StorageBackend[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    client.listStorage(abort.signal).then(
      (b) => setBackends(b),
      () => undefined,
    );
    return () => abort.abort();
  }, [client]);
  return backends;
}

export function StoreBadges({ artifact }: { artifact: Artifact }) {
  const stores = storesOf(artifact);
  if (stores.length === 0)
    return (
      <span className="muted" title="No storage backend holds its bytes any more">
        –
      </span>
    );
  return (
    <span className="store-badges" data-testid="artifact-stores">
      {stores.map((s) => (
        <span key={s} className="store-badge">
          {s}
        </span>
      ))}
    </span>
  );
}

export function StorageActionSelect({
  client,
  project,
  artifact,
  backends,
  onDone,
  notify,
}: {
  client: KilnClient;
  project: string;
  artifact: Artifact;
  backends: readonly StorageBackend[];
  onDone: () => void;
  notify?: (kind: 'error' | 'info', text: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const copies = copyTargets(backends, artifact);
  const moves = moveTargets(backends, artifact);
  if (copies.length === 0 && moves.length === 0) return null;
  async function run(value: string) {
    const action = parseAction(value);
    if (!action) return;
    setBusy(true);
    try {
      const change =
        action.verb === 'move'
          ? await client.moveArtifact(project, artifact.digest, action.to)
          : await client.copyArtifact(project, artifact.digest, action.to);
      notify?.('info', actionMessage(artifact.name, action, change.changed));
      onDone();
    } catch (e) {
      notify?.('error', `Could not ${action.verb} ${artifact.name} to ${action.to}: ${message(e)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <select
      className="small storage-action"
      value=""
      disabled={busy}
      onChange={(e) => void run(e.target.value)}
      aria-label={`Copy or move ${artifact.name} to another storage backend`}
      data-testid="artifact-storage-action"
    >
      <option value="">{busy ? 'Working…' : 'Copy / move…'}</option>
      {copies.length > 0 && (
        <optgroup label="Copy to">
          {copies.map((to) => (
            <option key={`copy-${to}`} value={actionValue({ verb: 'copy', to })}>
              Copy to {to}
            </option>
          ))}
        </optgroup>
      )}
      {moves.length > 0 && (
        <optgroup label="Move to">
          {moves.map((to) => (
            <option key={`move-${to}`} value={actionValue({ verb: 'move', to })}>
              Move to {to}
            </option>
          ))}
        </optgroup>
      )}
    </select>
  );
}

/** "New artifacts go to [backend]": the project's choice, changed by its admins. */
export function ProjectStorageSetting({
  client,
  project,
  backends,
  notify,
}: {
  client: KilnClient;
  project: string;
  backends: readonly StorageBackend[];
  notify?: (kind: 'error' | 'info', text: string) => void;
}) {
  const [choice, setChoice] = useState<ProjectStorage | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    client.projectStorage(project, abort.signal).then(
      (c) => setChoice(c),
      () => undefined,
    );
    return () => abort.abort();
  }, [client, project]);
  async function choose(value: string) {
    setBusy(true);
    try {
      const c = await client.setProjectStorage(project, choiceFor(value, backends));
      setChoice(c);
      notify?.('info', `New artifacts of ${project} go to ${c.backend}`);
    } catch (e) {
      notify?.('error', `Could not change where new artifacts go: ${message(e)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <label className="project-storage" title="Where uploads and job outputs of this project are stored">
      <span className="muted small">New artifacts go to</span>
      <select
        className="small"
        value={chosenBackend(choice, backends)}
        disabled={busy}
        onChange={(e) => void choose(e.target.value)}
        data-testid="project-storage"
      >
        {storageChoices(backends).map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
