// Small results shown as what they are: a JSON artifact of at most 4 KiB
// (the server sends its `value` in the artifacts list; a job's outputs panel
// fetches it) is printed inline instead of only offering a download.
import type { JsonValue } from '../model';

/** The largest JSON output shown inline: the server's limit for `value`. */
export const INLINE_LIMIT = 4096;

/** Whether an output's value is worth fetching to show inline. */
export function showsInline(o: { readonly serializer?: string | undefined; readonly size?: number | undefined }): boolean {
  return o.serializer === 'json' && typeof o.size === 'number' && o.size <= INLINE_LIMIT;
}

/** A number as people read it: integers whole, others to 6 significant digits. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e9 || a < 1e-4)) return v.toExponential(4).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

/**
 * A JSON value on one line, at most `max` characters: scalars as they are
 * (strings quoted, so "3" and 3 differ), lists and objects as compact JSON
 * with numbers rounded, cut with "…".
 */
export function inlineText(v: JsonValue, max = 120): string {
  let text: string;
  if (typeof v === 'number') text = formatNumber(v);
  else if (v === null || typeof v === 'boolean') text = String(v);
  else if (typeof v === 'string') text = JSON.stringify(v);
  else text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? Number(formatNumber(x)) : x));
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/** The whole value, indented: for a title or an expanded view. */
export function fullText(v: JsonValue): string {
  return JSON.stringify(v, null, 2);
}

/** The value of fetched JSON bytes; undefined when they are not JSON. */
export function parseValue(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}
