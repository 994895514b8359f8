// "Copy to project…": choose a project you may edit; the architecture (with
// its blocks) is copied to its main branch and opened there.
import { useEffect, useState } from 'react';
import type { KilnClient } from '@kiln/client';
import type { Guid } from '../model';
import { projectHref } from '../router';
import { Dialog } from '../ui/Dialog';
import { describeError } from '../ui/format';
import { copyArchitecture } from './copy';
import type { ArchitectureDocument } from './toDocument';

export function CopyDialog({
  client,
  project,
  doc,
  onClose,
}: {
  client: KilnClient;
  project: string;
  doc: ArchitectureDocument;
  onClose: () => void;
}) {
  const [projects, setProjects] = useState<string[] | null>(null);
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    client
      .listProjects()
      .then((ps) => {
        if (!live) return;
        const names = ps.map((p) => p.name).filter((n) => n !== project);
        setProjects(names);
        setTarget((t) => t || names[0] || '');
      })
      .catch((e: unknown) => live && setError(`Could not list the projects: ${describeError(e)}`));
    return () => {
      live = false;
    };
  }, [client, project]);

  const copy = async () => {
    setBusy(true);
    setError(null);
    try {
      const guid: Guid = await copyArchitecture(client, doc, target);
      window.location.hash = projectHref(target, { kind: 'architecture', guid }).replace(/^#/, '');
      onClose();
    } catch (e: unknown) {
      setError(`Could not copy to “${target}”: ${describeError(e)}`);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`Copy ${doc.main} to another project`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" onClick={() => void copy()} disabled={busy || !target} data-testid="copy-confirm">
            {busy ? 'Copying…' : 'Copy'}
          </button>
        </>
      }
    >
      <p className="muted small">
        The architecture and the blocks it uses become new, independent architectures in the project you choose (its
        main branch); the PyTorch library is added there if it is missing.
      </p>
      {projects === null && !error && <p className="muted">Loading projects…</p>}
      {projects !== null && projects.length === 0 && <p className="muted">There is no other project to copy to.</p>}
      {projects !== null && projects.length > 0 && (
        <label className="field">
          <span>Project</span>
          <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="copy-target">
            {projects.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
