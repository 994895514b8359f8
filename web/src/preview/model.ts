// The pure parts of artifact previews (Preview.tsx): one-line summaries of a
// preview, numbers as people read them (shapes, parameter counts, statistics),
// the histogram's bars, the 1-D plot's data for uPlot, a FITS header's cards
// and table cells as text. No DOM: tested alone.
import type { ArtifactPreview, FitsHdu, PreviewPlot, PreviewStats } from '@kiln/client';
import { formatNumber } from '../artifacts/value';
import { formatSize } from '../ui/format';

/** "5 × 64 × 64"; a 0-d array is "scalar". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join(' × ');
}

/** 950, 12.3 k, 1.20 M, 3.4 G: parameter and row counts. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return String(n);
  for (const [unit, size] of [
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const)
    if (a >= size) return `${Number((n / size).toPrecision(3))} ${unit}`;
  return String(n);
}

/** One line saying what the preview shows (for a collapsed row or a caption). */
export function summary(p: ArtifactPreview): string {
  switch (p.kind) {
    case 'json':
      return `JSON ${jsonShape(p.value)}${p.truncated ? ' (cut)' : ''}`;
    case 'array':
      return `${p.dtype} array ${formatShape(p.shape)}`;
    case 'state_dict':
      return `${p.module ? `${p.module.split('.').pop()} · ` : ''}${p.count} tensor${p.count === 1 ? '' : 's'} · ${formatCount(p.total_params)} parameters`;
    case 'fits':
      return `FITS · ${p.hdus.length} HDU${p.hdus.length === 1 ? '' : 's'}${p.hdus[0]?.shape ? ` · ${formatShape(p.hdus[0].shape)}` : ''}`;
    case 'table':
      return `table · ${p.columns.length} columns · ${p.count === null ? 'many' : formatCount(p.count)} rows`;
    case 'text':
      return `text · ${formatSize(p.size)}`;
    case 'binary':
      return `${p.format ?? 'binary'} · ${formatSize(p.size)}`;
  }
}

function jsonShape(v: unknown): string {
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v !== null && typeof v === 'object') return `object of ${Object.keys(v).length} keys`;
  return typeof v === 'string' ? 'string' : v === null ? 'null' : typeof v;
}

/** The statistics as [label, text] pairs, in reading order; counts of NaN/Inf only when there are any. */
export function statsEntries(s: PreviewStats): [string, string][] {
  const f = (v: number | null) => (v === null ? '–' : formatNumber(v));
  const out: [string, string][] = [
    ['min', f(s.min)],
    ['max', f(s.max)],
    ['mean', f(s.mean)],
    ['std', f(s.std)],
  ];
  if (s.nan) out.push(['NaN', String(s.nan)]);
  if (s.inf) out.push(['±Inf', String(s.inf)]);
  if (s.sampled) out.push(['sample', `${formatCount(s.sampled)} values`]);
  return out;
}

export interface Bar {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** "[lo, hi): count" for a title. */
  readonly title: string;
}

/** The histogram's bars in a width × height box (y down, the tallest bar fills the height). */
export function histogramBars(hist: NonNullable<PreviewPlot['hist']>, width: number, height: number): Bar[] {
  const n = hist.counts.length;
  if (n === 0) return [];
  const top = Math.max(...hist.counts, 1);
  const w = width / n;
  return hist.counts.map((c, i) => {
    const h = (c / top) * height;
    const lo = hist.edges[i];
    const hi = hist.edges[i + 1];
    const edge = (v: number | null | undefined) => (typeof v === 'number' ? formatNumber(v) : '?');
    return { x: i * w, y: height - h, width: Math.max(w - 1, 0.5), height: h, title: `[${edge(lo)}, ${edge(hi)}): ${c}` };
  });
}

/**
 * The 1-D plot as uPlot's aligned data: x, then y, then (for bucketed long
 * arrays) the min and max envelope.
 */
export function lineData(line: PreviewPlot['line']): (readonly (number | null)[])[] {
  const out: (readonly (number | null)[])[] = [line.x, line.y];
  if (line.min && line.max && line.min.length === line.x.length && line.max.length === line.x.length) out.push(line.min, line.max);
  return out;
}

/** A FITS header as [keyword, value] rows (blank keywords shown as such). */
export function headerEntries(header: FitsHdu['header']): [string, string][] {
  return Object.entries(header).map(([k, v]) => [k || '(blank)', cellText(v)]);
}

/** A table cell or header value as text: numbers rounded, null as "–", objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  return JSON.stringify(v);
}

/** Whether a cell is a number (right-aligned). */
export function isNumeric(v: unknown): boolean {
  return typeof v === 'number';
}

/**
 * A JSON value indented like JSON.stringify(v, null, 2), except that a list
 * of scalars stays on one line (a list of 300 numbers is one line, not 300).
 */
export function prettyJson(v: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x) ?? 'null').join(', ')}]`;
    return `[\n${v.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${prettyJson(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
