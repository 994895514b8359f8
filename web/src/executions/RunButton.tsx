// Run: starts an execution of the pipeline on the branch. Degrades to a clear
// message when the server has no executions API yet (404).
import { useState } from 'react';
import type { KilnClient } from '@kiln/client';
import { ApiError } from '@kiln/client';
import { describeError } from '../ui/format';

export const NO_EXECUTIONS =
  'Running pipelines is not available on this server yet: its executions API answered 404 Not Found.';

export function RunButton({
  client,
  project,
  branch,
  pipeline,
  pending,
  notify,
  onStarted,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  pipeline: string;
  pending: number;
  notify: (kind: 'error' | 'info', text: string) => void;
  onStarted: (id: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    // Let edits still on their way reach the branch first.
    for (let i = 0; i < 20 && pending > 0; i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const r = await client.startExecution(project, { pipeline, ref: branch, force: false });
      onStarted(r.id);
    } catch (e) {
      notify('error', e instanceof ApiError && e.isNotFound && e.code !== 'NotFound' ? NO_EXECUTIONS : runError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="run" onClick={run} disabled={busy} data-testid="run">
      <span aria-hidden="true">▶</span> {busy ? 'Starting…' : 'Run'}
    </button>
  );
}

function runError(e: unknown): string {
  if (e instanceof ApiError && e.isNotFound) return `${NO_EXECUTIONS} (${e.message})`;
  return `Could not start the pipeline: ${describeError(e)}`;
}
