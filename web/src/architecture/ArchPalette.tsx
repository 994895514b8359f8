// The architecture palette: the library's node types (GET /api/v1/libraries/torch)
// grouped by category and searchable, each one's doc on hover and in a
// detail box for the highlighted one; the project's other architectures
// follow as blocks. Drag onto the canvas, or click + to add.
import { memo, useMemo, useState, type DragEvent } from 'react';
import type { NamedNode } from './model';
import { groupByCategory, searchTypes, type LayerType } from './catalog';

export const ARCH_DROP_TYPE = 'application/x-kiln-layer';

export type PaletteItem = { readonly kind: 'layer'; readonly type: string } | { readonly kind: 'block'; readonly guid: string };

export function encodePaletteItem(item: PaletteItem): string {
  return JSON.stringify(item);
}

export function decodePaletteItem(text: string): PaletteItem | null {
  try {
    const v = JSON.parse(text) as Partial<PaletteItem> & { type?: unknown; guid?: unknown };
    if (v.kind === 'layer' && typeof v.type === 'string') return { kind: 'layer', type: v.type };
    if (v.kind === 'block' && typeof v.guid === 'string') return { kind: 'block', guid: v.guid };
  } catch {
    /* not ours */
  }
  return null;
}

function portsText(t: LayerType): string {
  const many = t.inputs.some((p) => p.many);
  return `${t.inputs.length}${many ? '+' : ''} in · ${t.outputs.length} out`;
}

/** Memoized: the editor re-renders on every tree and analysis change, the palette's props rarely change. */
export const ArchPalette = memo(ArchPaletteView);

function ArchPaletteView({
  types,
  loadError,
  blocks,
  onAdd,
}: {
  types: readonly LayerType[] | null;
  loadError: string | null;
  blocks: readonly NamedNode[];
  onAdd: (item: PaletteItem) => void;
}) {
  const [query, setQuery] = useState('');
  const [focus, setFocus] = useState<LayerType | null>(null);
  // Block is added through an architecture (below), not as a bare type.
  const usable = useMemo(() => (types ?? []).filter((t) => t.name !== 'Block'), [types]);
  const groups = useMemo(() => {
    const found = searchTypes(usable, query);
    return query.trim() ? [{ category: `${found.length} found`, types: found }] : groupByCategory(found);
  }, [usable, query]);
  const [closed, setClosed] = useState<Set<string>>(() => new Set(['loss', 'recurrent', 'transformer', 'embedding', 'other']));
  const shownBlocks = blocks.filter((b) => !query.trim() || b.name.toLowerCase().includes(query.trim().toLowerCase()));
  const drag = (item: PaletteItem) => (e: DragEvent) => {
    e.dataTransfer.setData(ARCH_DROP_TYPE, encodePaletteItem(item));
    e.dataTransfer.effectAllowed = 'copy';
  };
  const toggle = (c: string) =>
    setClosed((s) => {
      const n = new Set(s);
      if (n.has(c)) n.delete(c);
      else n.add(c);
      return n;
    });

  return (
    <aside className="palette arch-palette" aria-label="Layers palette">
      <div className="panel-title">Layers</div>
      <input
        type="search"
        className="palette-search"
        placeholder="Search layers…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-label="Search layers"
      />
      {loadError && (
        <p className="palette-none field-error" role="alert">
          Could not load the layer catalog: {loadError}
        </p>
      )}
      {!types && !loadError && <p className="palette-none">Loading the layer catalog…</p>}
      <div className="arch-palette-groups">
        {groups.map((g) => {
          const open = query.trim() !== '' || !closed.has(g.category);
          return (
            <section key={g.category} className="arch-palette-group">
              <button type="button" className="arch-group-head" aria-expanded={open} onClick={() => toggle(g.category)}>
                <span aria-hidden="true">{open ? '▾' : '▸'}</span> {g.category}
                <span className="muted small"> {g.types.length}</span>
              </button>
              {open && (
                <ul className="palette-list">
                  {g.types.map((t) => (
                    <li
                      key={t.name}
                      className={`palette-item arch-item${focus?.name === t.name ? ' focused' : ''}`}
                      draggable
                      data-testid={`palette-${t.name}`}
                      onDragStart={drag({ kind: 'layer', type: t.name })}
                      onMouseEnter={() => setFocus(t)}
                      onClick={() => setFocus(t)}
                      title={t.doc}
                    >
                      <div className="palette-item-main">
                        <span className="palette-name">{t.name}</span>
                        <span className="palette-ports">{portsText(t)}</span>
                      </div>
                      <button
                        type="button"
                        className="ghost icon add"
                        aria-label={`Add ${t.name}`}
                        title={`Add ${t.name}`}
                        onClick={(e) => {
                          e.stopPropagation();
                          onAdd({ kind: 'layer', type: t.name });
                        }}
                      >
                        +
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          );
        })}
        {types && groups.every((g) => g.types.length === 0) && <p className="palette-none">Nothing matches “{query}”.</p>}
        {shownBlocks.length > 0 && (
          <section className="arch-palette-group">
            <div className="arch-group-head static">blocks</div>
            <ul className="palette-list" aria-label="Blocks">
              {shownBlocks.map((b) => (
                <li
                  key={b.guid}
                  className="palette-item arch-item arch-block-item"
                  draggable
                  data-testid={`palette-block-${b.name}`}
                  onDragStart={drag({ kind: 'block', guid: b.guid })}
                  title={`A block running the architecture ${b.name}`}
                >
                  <div className="palette-item-main">
                    <span className="palette-name">{b.name}</span>
                    <span className="palette-ports">architecture as a block</span>
                  </div>
                  <button
                    type="button"
                    className="ghost icon add"
                    aria-label={`Add block ${b.name}`}
                    title={`Add block ${b.name}`}
                    onClick={() => onAdd({ kind: 'block', guid: b.guid })}
                  >
                    +
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
      {focus && (
        <div className="arch-doc" data-testid="palette-doc">
          <strong>{focus.name}</strong> <span className="muted small">{focus.category}</span>
          <p>{focus.doc || 'No description.'}</p>
          {focus.params.length > 0 && (
            <p className="muted small">
              {focus.params.map((p) => (p.required ? p.name : `${p.name}=${JSON.stringify(p.default ?? null)}`)).join(', ')}
            </p>
          )}
        </div>
      )}
    </aside>
  );
}
