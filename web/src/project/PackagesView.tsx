// The project's Python packages (docs/python-packages.md): pip requirement
// lines that its jobs run with. Saved as the root node's "requirements"
// attribute, a commit like any other edit; the first job that needs the list
// installs it (its console shows pip's output) and later jobs reuse it.
import { useEffect, useState } from 'react';
import type { Tree } from '../model';
import type { Editing } from '../pipeline/PipelineEditor';
import { packageNames, requirementsOf, setRequirementsOps } from './packages';

export function PackagesView({ tree, editing }: { tree: Tree; editing: Editing | null }) {
  const saved = requirementsOf(tree);
  const [text, setText] = useState(saved);
  const [dirty, setDirty] = useState(false);
  // Someone else's save shows at once unless this user is typing.
  useEffect(() => {
    if (!dirty) setText(saved);
  }, [saved, dirty]);
  const ops = setRequirementsOps(tree, text);
  const names = packageNames(saved);

  const save = () => {
    if (!editing || ops.length === 0) return;
    editing.edit(ops, 'Set the Python packages');
    setDirty(false);
  };

  return (
    <div className="page-pane packages" data-testid="packages">
      <div className="pane-head">
        <h2>Python packages</h2>
        <div className="pane-actions">
          {editing && (
            <button type="button" onClick={save} disabled={ops.length === 0} data-testid="packages-save">
              Save
            </button>
          )}
        </div>
      </div>
      <p className="muted">
        Packages this project&apos;s operations import beyond what the server&apos;s Python has (torch, numpy, scipy,
        matplotlib, scikit-learn): one pip requirement per line, as in a <code>requirements.txt</code>. Options work too,
        e.g. <code>--find-links /srv/wheels</code> and <code>--no-index</code> for a local wheel folder. The first job
        that runs after a change installs them into an environment of its own (its console shows pip&apos;s output);
        every later job reuses it.
      </p>
      <textarea
        aria-label="Python requirements"
        data-testid="packages-text"
        rows={12}
        spellCheck={false}
        style={{ width: '100%', fontFamily: 'var(--mono, monospace)' }}
        value={text}
        readOnly={!editing}
        placeholder={'astropy==5.2\nlmfit'}
        onChange={(e) => {
          setText(e.target.value);
          setDirty(true);
        }}
      />
      <p className="muted small" data-testid="packages-summary">
        {names.length === 0 ? 'No packages listed: jobs use the server’s Python as it is.' : `Listed: ${names.join(', ')}.`}
        {!editing && ' Read-only here.'}
      </p>
    </div>
  );
}
