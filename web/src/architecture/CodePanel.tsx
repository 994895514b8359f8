// The generated code, read-only in CodeMirror (a lazy chunk, like the
// operation editor), with "Export .py" downloading it.
import { CodeEditor } from '../operations/CodeEditor';

export default function CodePanel({ code, fileName }: { code: string; fileName: string }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([code], { type: 'text/x-python' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="arch-code" data-testid="arch-code">
      <div className="arch-code-bar">
        <span className="muted small">Generated PyTorch module (read-only)</span>
        <button type="button" className="secondary small" onClick={download} disabled={!code} data-testid="export-py">
          Export .py
        </button>
      </div>
      <div className="arch-code-editor">
        <CodeEditor value={code} onChange={() => undefined} readOnly />
      </div>
    </div>
  );
}
