// The canvas toolbar's editing tools that every graph editor has (pipelines,
// architectures): undo, redo, auto layout — none when read-only — and fit.
import type { Editing } from '../pipeline/PipelineEditor';

export function CanvasTools({
  editing,
  readOnly,
  onLayout,
  layoutTitle,
  onFit,
}: {
  editing: Editing | null;
  readOnly: boolean;
  onLayout: () => void;
  layoutTitle: string;
  onFit: () => void;
}) {
  return (
    <>
      {!readOnly && (
        <>
          <button type="button" className="tool" onClick={() => editing?.undo()} disabled={!editing?.canUndo} title="Undo (Ctrl+Z)">
            ↶ Undo
          </button>
          <button type="button" className="tool" onClick={() => editing?.redo()} disabled={!editing?.canRedo} title="Redo (Ctrl+Shift+Z)">
            ↷ Redo
          </button>
          <span className="toolbar-sep" />
          <button type="button" className="tool" onClick={onLayout} title={layoutTitle}>
            Auto layout
          </button>
        </>
      )}
      <button type="button" className="tool" onClick={onFit} title="Fit to screen (F)">
        Fit
      </button>
    </>
  );
}
