// What an Input reads: one of the project's artifacts, chosen from a list,
// or a file uploaded from here (stored as an artifact of the branch, then
// chosen). Binding sets the Input's "artifact" (digest) and "serializer"
// (data.ts, bindInputOps) in one edit.
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '@kiln/client';
import { progressFraction, progressText, uploadName } from '../artifacts/artifacts';
import type { ArtifactSource } from '../artifacts/source';
import { isAbortError, type Upload, type UploadProgress } from '../artifacts/upload';
import type { Guid, Op, Tree } from '../model';
import { describeError } from '../ui/format';
import { bindInputOps, inputArtifact, type InputChoice } from './data';

type EditFn = ((ops: readonly Op[], label: string) => string | null) | null;

interface Sending {
  readonly name: string;
  readonly progress: UploadProgress;
  readonly upload: Upload;
}

export function InputBinding({
  tree,
  node,
  edit,
  choices,
  source,
  onUploaded,
}: {
  tree: Tree;
  node: Guid;
  edit: EditFn;
  choices: readonly InputChoice[];
  source?: ArtifactSource | undefined;
  onUploaded?: (() => void) | undefined;
}) {
  const current = inputArtifact(tree, node) ?? '';
  const chosen = choices.find((c) => c.digest === current);
  const [sending, setSending] = useState<Sending | null>(null);
  const [error, setError] = useState<string | null>(null);
  const file = useRef<HTMLInputElement>(null);
  // The upload ends after edits may have arrived: bind against the tree then.
  const treeRef = useRef(tree);
  treeRef.current = tree;
  const live = useRef<Upload | null>(null);
  useEffect(() => () => live.current?.cancel(), []);

  const bind = (c: InputChoice) => edit?.(bindInputOps(treeRef.current, node, c), `Read ${c.name} in the Input`);

  function upload(f: File) {
    if (!source) return;
    const name = uploadName(f.name);
    setError(null);
    const up = source.upload(f, name, (progress) => setSending((s) => (s ? { ...s, progress } : s)));
    live.current = up;
    setSending({ name, progress: { loaded: 0, total: f.size }, upload: up });
    up.done.then(
      (r) => {
        live.current = null;
        setSending(null);
        edit?.(bindInputOps(treeRef.current, node, { digest: r.digest, name, serializer: 'raw' }), `Read ${name} in the Input`);
        onUploaded?.();
      },
      (e: unknown) => {
        live.current = null;
        setSending(null);
        // The server's own words for 413 (over the limit) and 507 (disk full).
        if (!isAbortError(e)) setError(`${name}: ${e instanceof ApiError && e.status !== 0 ? e.message : describeError(e)}`);
      },
    );
  }

  const fraction = sending ? progressFraction(sending.progress.loaded, sending.progress.total) : null;
  return (
    <div className="inspector-section input-binding" data-testid="input-binding">
      <div className="section-label">Reads</div>
      <label className="field" data-testid="attr-artifact">
        <span>Artifact</span>
        <select
          value={current}
          disabled={!edit || sending !== null}
          onChange={(e) => {
            const c = choices.find((x) => x.digest === e.target.value);
            if (c) bind(c);
          }}
          data-testid="input-artifact"
        >
          <option value="" disabled>
            {choices.length ? 'Choose an artifact…' : 'No artifacts yet: upload one'}
          </option>
          {current && !chosen && <option value={current}>unknown artifact {current.slice(0, 12)}</option>}
          {choices.map((c) => (
            <option key={c.digest} value={c.digest}>
              {c.name} · {c.note}
            </option>
          ))}
        </select>
      </label>
      {chosen && (
        <p className="muted small" data-testid="input-bound">
          The operation connected to <strong>data</strong> gets {describeLoad(chosen.serializer)}.
        </p>
      )}
      {source && edit && (
        <div className="upload-row">
          {sending ? (
            <>
              <progress max={1} value={fraction ?? undefined} aria-label={`Uploading ${sending.name}`} />
              <span className="muted small" data-testid="input-upload-progress">
                {progressText(sending.progress.loaded, sending.progress.total)}
              </span>
              <button type="button" className="ghost small" onClick={() => sending.upload.cancel()}>
                Cancel
              </button>
            </>
          ) : (
            <button type="button" className="secondary small" onClick={() => file.current?.click()} data-testid="input-upload">
              Upload a file…
            </button>
          )}
          <input
            ref={file}
            type="file"
            hidden
            data-testid="input-file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) upload(f);
              e.target.value = '';
            }}
          />
        </div>
      )}
      {error && (
        <p className="form-error" role="alert">
          Could not upload {error}
        </p>
      )}
    </div>
  );
}

/** What the next operation receives, by serializer (python/kiln/serializers.py). */
function describeLoad(serializer: string | undefined): string {
  switch (serializer ?? 'raw') {
    case 'raw':
      return "the file's bytes (e.g. data.decode() for text)";
    case 'numpy':
      return 'a NumPy array';
    case 'torch':
      return 'what torch.load returns';
    case 'json':
      return 'the JSON value';
    case 'pickle':
      return 'the unpickled value';
    default:
      return `the value loaded with “${serializer}”`;
  }
}
