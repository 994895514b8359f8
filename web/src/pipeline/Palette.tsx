// The palette: the project's operation definitions, searchable; drag one onto
// the canvas (or click +) to add an instance.
import { useMemo, useState } from 'react';
import type { Guid } from '../model';
import type { OperationDefinition } from './model';

export function Palette({
  definitions,
  dropType,
  onAdd,
}: {
  definitions: readonly OperationDefinition[];
  dropType: string;
  onAdd: (definition: Guid) => void;
}) {
  const [query, setQuery] = useState('');
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return definitions;
    return definitions.filter(
      (d) =>
        d.name.toLowerCase().includes(q) ||
        d.description.toLowerCase().includes(q) ||
        [...d.inputs, ...d.outputs].some((p) => p.name.toLowerCase().includes(q)),
    );
  }, [definitions, query]);

  return (
    <aside className="palette" aria-label="Operations palette">
      <div className="panel-title">Operations</div>
      <input
        type="search"
        className="palette-search"
        placeholder="Search operations…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-label="Search operations"
      />
      <ul className="palette-list">
        {shown.map((d) => (
          <li
            key={d.guid}
            className="palette-item"
            draggable
            data-testid={`palette-${d.name}`}
            onDragStart={(e) => {
              e.dataTransfer.setData(dropType, d.guid);
              e.dataTransfer.effectAllowed = 'copy';
            }}
            title={d.description || d.name}
          >
            <div className="palette-item-main">
              <span className="palette-name">{d.name}</span>
              <span className="palette-ports">
                {d.inputs.length} in · {d.outputs.length} out
              </span>
              {d.description && <span className="palette-desc">{d.description}</span>}
            </div>
            <button
              type="button"
              className="ghost icon add"
              aria-label={`Add ${d.name}`}
              title={`Add ${d.name} to the pipeline`}
              onClick={() => onAdd(d.guid)}
            >
              +
            </button>
          </li>
        ))}
        {shown.length === 0 && (
          <li className="palette-none">
            {definitions.length === 0 ? 'No operation definitions in this project yet.' : `Nothing matches “${query}”.`}
          </li>
        )}
      </ul>
    </aside>
  );
}
