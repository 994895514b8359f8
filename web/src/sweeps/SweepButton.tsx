// "Sweep…" beside Run in the pipeline editor's toolbar: opens SweepDialog.
import { useState } from 'react';
import type { Backend, KilnClient } from '@kiln/client';
import type { BackendChoice } from '../compute/backends';
import type { Guid, Tree } from '../model';
import { SweepDialog } from './SweepDialog';

export function SweepButton(props: {
  client: KilnClient;
  project: string;
  branch: string;
  tree: Tree;
  pipeline: Guid;
  pending: number;
  backends: readonly Backend[] | null;
  backend: BackendChoice;
  onBackend: (choice: BackendChoice) => void;
  onStarted: (id: string) => void;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="secondary"
        onClick={() => setOpen(true)}
        data-testid="sweep"
        title="Run the pipeline many times with other attribute values"
      >
        Sweep…
      </button>
      {open && (
        <SweepDialog
          {...props}
          onClose={() => setOpen(false)}
          onStarted={(id) => {
            setOpen(false);
            props.onStarted(id);
          }}
        />
      )}
    </>
  );
}
