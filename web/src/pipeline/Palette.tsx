// The palette: Input and Output (data in and out), the project's operation
// definitions and its artifacts, searchable; drag one onto the canvas (or
// click +) to add it. An artifact becomes an Input bound to it.
import { useMemo, useState, type DragEvent } from 'react';
import { DATA_OPERATIONS, encodeDropItem, type ArtifactBinding, type DataKind, type DropItem } from './data';
import type { OperationDefinition } from './model';
import './data.css';

const MAX_ARTIFACTS = 30;

export interface PaletteArtifact extends ArtifactBinding {
  /** A short note: kind and where it came from. */
  readonly note?: string;
}

export function Palette({
  definitions,
  artifacts = [],
  dropType,
  onAdd,
}: {
  definitions: readonly OperationDefinition[];
  artifacts?: readonly PaletteArtifact[];
  dropType: string;
  onAdd: (item: DropItem) => void;
}) {
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const shown = useMemo(() => {
    if (!q) return definitions;
    return definitions.filter(
      (d) =>
        d.name.toLowerCase().includes(q) ||
        d.description.toLowerCase().includes(q) ||
        [...d.inputs, ...d.outputs].some((p) => p.name.toLowerCase().includes(q)),
    );
  }, [definitions, q]);
  const data = (['input', 'output'] as const).filter(
    (k) => !q || DATA_OPERATIONS[k].name.toLowerCase().includes(q) || DATA_OPERATIONS[k].description.toLowerCase().includes(q),
  );
  const matching = artifacts.filter((a) => !q || a.name.toLowerCase().includes(q));
  // Every run adds outputs: a long list is cut, and search finds the rest.
  const files = matching.slice(0, MAX_ARTIFACTS);
  const drag = (item: DropItem) => (e: DragEvent) => {
    e.dataTransfer.setData(dropType, encodeDropItem(item));
    e.dataTransfer.effectAllowed = 'copy';
  };

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
        {data.map((k: DataKind) => (
          <Item
            key={k}
            testId={`palette-${DATA_OPERATIONS[k].name}`}
            name={DATA_OPERATIONS[k].name}
            ports={k === 'input' ? '0 in · 1 out' : '1 in · 0 out'}
            description={DATA_OPERATIONS[k].description}
            className="palette-data"
            onDragStart={drag({ kind: 'data', data: k })}
            addLabel={`Add ${DATA_OPERATIONS[k].name}`}
            onAdd={() => onAdd({ kind: 'data', data: k })}
          />
        ))}
        {shown.map((d) => (
          <Item
            key={d.guid}
            testId={`palette-${d.name}`}
            name={d.name}
            ports={`${d.inputs.length} in · ${d.outputs.length} out`}
            description={d.description}
            onDragStart={drag({ kind: 'definition', guid: d.guid })}
            addLabel={`Add ${d.name}`}
            onAdd={() => onAdd({ kind: 'definition', guid: d.guid })}
          />
        ))}
        {shown.length === 0 && (
          <li className="palette-none">
            {definitions.length === 0 ? 'No operation definitions in this project yet.' : `Nothing matches “${query}”.`}
          </li>
        )}
      </ul>
      {files.length > 0 && (
        <>
          <div className="panel-title palette-subtitle">Artifacts</div>
          <ul className="palette-list palette-artifacts" aria-label="Artifacts">
            {files.map((a) => (
              <Item
                key={a.digest}
                testId={`palette-artifact-${a.name}`}
                name={a.name}
                ports={a.note ?? a.serializer ?? 'raw'}
                description=""
                className="palette-artifact"
                title={`Drag onto the canvas: an Input reading ${a.name}`}
                onDragStart={drag({ kind: 'artifact', artifact: a })}
                addLabel={`Use ${a.name} as an Input`}
                onAdd={() => onAdd({ kind: 'artifact', artifact: a })}
              />
            ))}
            {matching.length > files.length && (
              <li className="palette-none">{matching.length - files.length} more: search to find them.</li>
            )}
          </ul>
        </>
      )}
    </aside>
  );
}

function Item({
  testId,
  name,
  ports,
  description,
  className,
  title,
  onDragStart,
  addLabel,
  onAdd,
}: {
  testId: string;
  name: string;
  ports: string;
  description: string;
  className?: string;
  title?: string;
  onDragStart: (e: DragEvent) => void;
  addLabel: string;
  onAdd: () => void;
}) {
  return (
    <li
      className={`palette-item${className ? ` ${className}` : ''}`}
      draggable
      data-testid={testId}
      onDragStart={onDragStart}
      title={title ?? (description || name)}
    >
      <div className="palette-item-main">
        <span className="palette-name">{name}</span>
        <span className="palette-ports">{ports}</span>
        {description && <span className="palette-desc">{description}</span>}
      </div>
      <button type="button" className="ghost icon add" aria-label={addLabel} title={addLabel} onClick={onAdd}>
        +
      </button>
    </li>
  );
}
