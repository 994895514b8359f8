// "Import PyTorch code": paste a module's code, name the class and the input
// shape(s); POST /api/v1/nn/import answers an architecture document, which
// becomes new Architecture nodes (the main one and its blocks) in one patch.
import { useState } from 'react';
import type { KilnClient } from '@kiln/client';
import { ApiError } from '@kiln/client';
import type { Guid, Op, Tree } from '../model';
import { Dialog } from '../ui/Dialog';
import { importCode } from './api';
import { documentOps } from './fromDocument';

const EXAMPLE = `import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8 * 26 * 26, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(torch.flatten(x, 1))
`;

/** "N, 1, 28, 28; N, 10" → [["N",1,28,28],["N",10]]: one shape per forward argument. */
export function parseShapes(text: string): (number | string)[][] | string {
  const shapes = text
    .split(';')
    .map((s) => s.trim().replace(/^[[(]|[\])]$/g, ''))
    .filter((s) => s !== '');
  if (shapes.length === 0) return 'give the input shape, e.g. N, 1, 28, 28';
  const out: (number | string)[][] = [];
  for (const s of shapes) {
    const dims = s.split(',').map((d) => d.trim());
    if (dims.some((d) => d === '')) return `“${s}”: an empty dimension`;
    out.push(dims.map((d) => (/^\d+$/.test(d) ? Number(d) : d)));
  }
  return out;
}

export function ImportDialog({
  client,
  tree,
  edit,
  onClose,
  onImported,
}: {
  client: KilnClient;
  tree: Tree;
  edit: (ops: readonly Op[], label: string) => string | null;
  onClose: () => void;
  onImported: (arch: Guid) => void;
}) {
  const [code, setCode] = useState(EXAMPLE);
  const [cls, setCls] = useState('Net');
  const [shape, setShape] = useState('N, 1, 28, 28');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    const inputs = parseShapes(shape);
    if (typeof inputs === 'string') return setError(`Input shape: ${inputs}`);
    setBusy(true);
    setError(null);
    try {
      const doc = await importCode(client, { code, inputs, ...(cls.trim() ? { class: cls.trim() } : {}) });
      const { ops, main } = documentOps(tree, doc);
      const refused = edit(ops, `Import ${doc.main}`);
      if (refused !== null) throw new Error(refused);
      onImported(main);
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Import PyTorch code"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" onClick={() => void run()} disabled={busy || !code.trim()} data-testid="import-run">
            {busy ? 'Importing…' : 'Import'}
          </button>
        </>
      }
    >
      <div className="import-dialog">
        <label className="field">
          <span>Python code (an nn.Module)</span>
          <textarea value={code} onChange={(e) => setCode(e.target.value)} spellCheck={false} aria-label="Python code" />
        </label>
        <label className="field">
          <span>Class</span>
          <input value={cls} onChange={(e) => setCls(e.target.value)} aria-label="Class name" placeholder="the last nn.Module" />
        </label>
        <label className="field">
          <span>Input shape (several: separated by ;)</span>
          <input value={shape} onChange={(e) => setShape(e.target.value)} aria-label="Input shape" className="mono" />
        </label>
        {error && (
          <p className="field-error" role="alert" data-testid="import-error">
            {error}
          </p>
        )}
      </div>
    </Dialog>
  );
}
