// Run: starts an execution of the pipeline on the branch, on the backend
// chosen beside it when the server has several (compute/BackendSelect).
// Degrades to a clear message when the server has no executions API yet (404).
import { useState } from 'react';
import type { Backend, KilnClient } from '@kiln/client';
import { ApiError } from '@kiln/client';
import { backendField, type BackendChoice } from '../compute/backends';
import { BackendSelect } from '../compute/BackendSelect';
import { describeError } from '../ui/format';

export const NO_EXECUTIONS =
  'Running pipelines is not available on this server yet: its executions API answered 404 Not Found.';

export function RunButton({
  client,
  project,
  branch,
  pipeline,
  pending,
  backends,
  backend,
  onBackend,
  notify,
  onStarted,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  pipeline: string;
  pending: number;
  /** The server's backends (null: unknown; no choice is shown with fewer than two). */
  backends: readonly Backend[] | null;
  backend: BackendChoice;
  onBackend: (choice: BackendChoice) => void;
  notify: (kind: 'error' | 'info', text: string) => void;
  onStarted: (id: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    // Let edits still on their way reach the branch first.
    for (let i = 0; i < 20 && pending > 0; i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const r = await client.startExecution(project, { pipeline, ref: branch, force: false, ...backendField(backend) });
      onStarted(r.id);
    } catch (e) {
      notify('error', e instanceof ApiError && e.isNotFound && e.code !== 'NotFound' ? NO_EXECUTIONS : runError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="run-group">
      <button type="button" className="run" onClick={run} disabled={busy} data-testid="run">
        <span aria-hidden="true">▶</span> {busy ? 'Starting…' : 'Run'}
      </button>
      <BackendSelect backends={backends} value={backend} onChange={onBackend} disabled={busy} />
    </span>
  );
}

function runError(e: unknown): string {
  if (e instanceof ApiError && e.isNotFound) return `${NO_EXECUTIONS} (${e.message})`;
  return `Could not start the pipeline: ${describeError(e)}`;
}
