// Edge labels (an architecture's tensor shapes) kept outside React Flow's
// edges: a label change (every analysis answer changes all of them) would
// otherwise hand React Flow a new edge object per connection, and it rebuilds
// its connection lookup, writes its store and re-renders every edge wrapper.
// Here the canvas publishes a map from edge id to label; each edge reads its
// own entry, so only the edges whose text changed re-render, and the edges
// React Flow holds stay the same objects.
//
// The edge drawn is React Flow's default bezier (BaseEdge + getBezierPath,
// as its built-in one: same path, label and background elements), registered
// as the `default` type so the DOM and its classes do not change.
import { BaseEdge, getBezierPath, Position, type EdgeProps } from '@xyflow/react';
import { createContext, memo, useCallback, useContext, useSyncExternalStore } from 'react';

/** The labels of a canvas's edges by edge id; subscribers hear of every new map. */
export class EdgeLabels {
  private map: ReadonlyMap<string, string> = new Map();
  private readonly listeners = new Set<() => void>();

  get(id: string): string | undefined {
    return this.map.get(id);
  }

  /** Publishes new labels; returns false (and notifies no one) when they are the same. */
  set(next: ReadonlyMap<string, string>): boolean {
    const prev = this.map;
    if (prev.size === next.size && [...next].every(([id, l]) => prev.get(id) === l)) return false;
    this.map = next;
    for (const l of this.listeners) l();
    return true;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export const EdgeLabelsContext = createContext<EdgeLabels | null>(null);

const LABEL_PADDING: [number, number] = [4, 2];

function LabelledEdgeView({
  id,
  sourceX,
  sourceY,
  targetX,
  targetY,
  sourcePosition = Position.Bottom,
  targetPosition = Position.Top,
  style,
  markerEnd,
  markerStart,
  pathOptions,
  interactionWidth,
}: EdgeProps & { pathOptions?: { curvature?: number } }) {
  const labels = useContext(EdgeLabelsContext);
  const subscribe = useCallback((l: () => void) => (labels ? labels.subscribe(l) : () => undefined), [labels]);
  const label = useSyncExternalStore(subscribe, () => labels?.get(id));
  const [path, labelX, labelY] = getBezierPath({
    sourceX,
    sourceY,
    sourcePosition,
    targetX,
    targetY,
    targetPosition,
    curvature: pathOptions?.curvature,
  });
  return (
    <BaseEdge
      path={path}
      labelX={labelX}
      labelY={labelY}
      label={label}
      labelBgPadding={LABEL_PADDING}
      labelBgBorderRadius={4}
      style={style}
      markerEnd={markerEnd}
      markerStart={markerStart}
      interactionWidth={interactionWidth}
    />
  );
}

export const LabelledEdge = memo(LabelledEdgeView);
export const edgeTypes = { default: LabelledEdge };
