// The three-way view of a code collision: the base (what the user started
// from), theirs (stored now) and mine (the unsaved text) side by side, rows
// aligned by the merge's hunks (model/collide merge3), changed lines marked.
// "Edit the merge" puts the merged text (conflicts between markers) into the
// editor, where the user finishes it and saves over theirs.
import { useMemo } from 'react';
import { merge3, type MergeHunk } from '../model';
import './collide.css';

type Column = 'base' | 'theirs' | 'mine';

function linesOf(h: MergeHunk, col: Column): readonly string[] {
  if (h.kind === 'same') return h.lines;
  if (h.kind === 'conflict') return h[col];
  if (col === 'base') return h.base;
  // A side that did not change keeps the base's lines.
  return h.by === 'both' || h.by === col ? h.lines : h.base;
}

function rowClass(h: MergeHunk, col: Column): string {
  if (h.kind === 'same') return '';
  if (h.kind === 'conflict') return col === 'base' ? 'tw-base' : 'tw-conflict';
  if (col === 'base') return 'tw-base';
  return h.by === 'both' || h.by === col ? 'tw-changed' : '';
}

export function ThreeWayView({
  base,
  theirs,
  mine,
  onUse,
  onClose,
}: {
  base: string;
  theirs: string;
  mine: string;
  onUse: (merged: string) => void;
  onClose: () => void;
}) {
  // The LCS is quadratic: not again on every keystroke in the editor above.
  const merge = useMemo(() => merge3(base, theirs, mine), [base, theirs, mine]);
  const cols: Array<{ col: Column; title: string }> = [
    { col: 'base', title: 'Base (when you started)' },
    { col: 'theirs', title: 'Theirs (saved now)' },
    { col: 'mine', title: 'Mine (unsaved)' },
  ];
  return (
    <section className="three-way" aria-label="Three-way comparison" data-testid="three-way">
      <div className="three-way-head">
        <strong>Both changes against the base</strong>
        <span className="muted small">
          {merge.conflicts === 0
            ? 'The changes do not overlap: the merge keeps both.'
            : `${merge.conflicts} place${merge.conflicts > 1 ? 's' : ''} changed on both sides (marked red).`}
        </span>
        <span className="spacer" />
        <button type="button" className="run save small" onClick={() => onUse(merge.text)} data-testid="use-merge">
          {merge.conflicts === 0 ? 'Use the merge' : 'Edit the merge'}
        </button>
        <button type="button" className="ghost small" onClick={onClose} aria-label="Close the comparison">
          ×
        </button>
      </div>
      <div className="three-way-cols">
        {cols.map(({ col, title }) => (
          <div key={col} className="three-way-col" data-testid={`three-way-${col}`}>
            <div className="three-way-title small">{title}</div>
            <pre>
              {merge.hunks.map((h, i) => {
                const rows = Math.max(...(['base', 'theirs', 'mine'] as const).map((c) => linesOf(h, c).length));
                const own = linesOf(h, col);
                const cls = rowClass(h, col);
                return Array.from({ length: rows }, (_, r) => (
                  <div key={`${i}/${r}`} className={`tw-line ${r < own.length ? cls : 'tw-pad'}`}>
                    {r < own.length ? own[r] || ' ' : ' '}
                  </div>
                ));
              })}
            </pre>
          </div>
        ))}
      </div>
    </section>
  );
}
