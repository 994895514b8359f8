// Edge labels (an architecture's tensor shapes) kept outside React Flow's
// edges: a label change (every analysis answer changes all of them) would
// otherwise hand React Flow a new edge object per connection, and it rebuilds
// its connection lookup, writes its store and re-renders every edge wrapper.
// Here the canvas publishes a map from edge id to label; each edge reads its
// own entry, so only the edges whose text changed re-render, and the edges
// React Flow holds stay the same objects.
//
// The edge drawn is React Flow's default bezier (BaseEdge + getBezierPath, as
// its built-in one), registered as the `default` type so its classes do not
// change. Its label has EdgeText's elements and classes (a wrapper group, the
// background rect, the text) with two differences that cost nothing to the
// eye: the text's size is measured once per distinct text, synchronously
// (EdgeText measures every label after its first render and renders it a
// second time), and the elements are placed with x/y instead of a transform
// on the group (each transformed element is one more paint property node for
// the compositor on every frame of a drag).
import { BaseEdge, getBezierPath, Position, type EdgeProps } from '@xyflow/react';
import { createContext, memo, useCallback, useContext, useLayoutEffect, useState, useSyncExternalStore } from 'react';

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
    <>
      <BaseEdge path={path} style={style} markerEnd={markerEnd} markerStart={markerStart} interactionWidth={interactionWidth} />
      {label ? <EdgeLabel x={labelX} y={labelY} label={label} /> : null}
    </>
  );
}

// The label's padding around the text and corner radius (as the canvas gave EdgeText).
const PAD_X = 4;
const PAD_Y = 2;
const RADIUS = 4;

/** Text sizes by text: a canvas's labels are a few distinct shapes repeated. */
const sizes = new Map<string, { width: number; height: number }>();
let font: CanvasRenderingContext2D | null | undefined;

/**
 * The size of `text` drawn as an edge label (what getBBox gives an SVG text:
 * its advance width, its font's ascent + descent), measured with a canvas in
 * the label's font: no layout of the page (a getBBox during a render of 500
 * nodes forced one per distinct text, ~20 ms each). The font is read once
 * from an SVG text with the label's class (styles.css sets it from that class
 * alone) inside a hidden `.react-flow` element, as on the canvas.
 */
function labelSize(text: string): { width: number; height: number } {
  let size = sizes.get(text);
  if (size) return size;
  if (font === undefined) font = labelFont();
  if (!font) return { width: 0, height: 0 }; // no canvas (jsdom): the label stays hidden
  const m = font.measureText(text);
  size = { width: m.width, height: m.fontBoundingBoxAscent + m.fontBoundingBoxDescent };
  if (size.width > 0) sizes.set(text, size);
  return size;
}

function labelFont(): CanvasRenderingContext2D | null {
  const ctx = typeof document !== 'undefined' ? document.createElement('canvas').getContext('2d') : null;
  if (!ctx) return null;
  const host = document.createElement('div');
  host.className = 'react-flow';
  host.style.cssText = 'position:absolute;visibility:hidden;pointer-events:none';
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  const label = document.createElementNS('http://www.w3.org/2000/svg', 'text');
  label.setAttribute('class', 'react-flow__edge-text');
  svg.appendChild(label);
  host.appendChild(svg);
  document.body.appendChild(host);
  const st = getComputedStyle(label);
  ctx.font = `${st.fontStyle} ${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
  host.remove();
  return ctx;
}

/** EdgeText's elements at EdgeText's places, without its transform and second render. */
const EdgeLabel = memo(function EdgeLabel({ x, y, label }: { x: number; y: number; label: string }) {
  const { width, height } = labelSize(label);
  // Not measurable while rendering (no layout yet): measured again once mounted.
  const [, remeasured] = useState(0);
  useLayoutEffect(() => {
    if (width === 0 && labelSize(label).width > 0) remeasured((n) => n + 1);
  }, [label, width]);
  const left = x - width / 2;
  const top = y - height / 2;
  return (
    <g className="react-flow__edge-textwrapper" visibility={width ? 'visible' : 'hidden'}>
      <rect
        width={width + 2 * PAD_X}
        x={left - PAD_X}
        y={top - PAD_Y}
        height={height + 2 * PAD_Y}
        className="react-flow__edge-textbg"
        rx={RADIUS}
        ry={RADIUS}
      />
      <text className="react-flow__edge-text" x={left} y={top + height / 2} dy="0.3em">
        {label}
      </text>
    </g>
  );
});

export const LabelledEdge = memo(LabelledEdgeView);
export const edgeTypes = { default: LabelledEdge };
