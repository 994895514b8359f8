// Parameter values typed by the catalog (docs/nn.md, "The layer catalog"):
// what the inspector shows for a value and how it reads what the user typed.
// A union is read by trying its alternatives (a smart parse: "3" is an int,
// "3, 3" a tuple, "same" an enum value); "None" is None where the type is
// optional. Pure: no React.
import type { JsonValue } from '../model';
import type { ParamType } from './catalog';

export type Parsed = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly error: string };

/** Human text of a type: "int | tuple of int", "optional float", "one of same, valid". */
export function describeType(t: ParamType): string {
  if (typeof t === 'string') return t === 'str' ? 'text' : t;
  if ('enum' in t) return `one of ${t.enum.join(', ')}`;
  if ('tuple' in t) return `tuple of ${describeType(t.tuple)}`;
  if ('optional' in t) return `${describeType(t.optional)} or None`;
  return t.union.map(describeType).join(' | ');
}

/** The alternatives of a type, optional and union flattened ("None" is `null`). */
export function alternatives(t: ParamType): (ParamType | null)[] {
  if (typeof t === 'object' && 'optional' in t) return [...alternatives(t.optional), null];
  if (typeof t === 'object' && 'union' in t) return t.union.flatMap(alternatives);
  return [t];
}

/** The enum values a type allows, if it is (or contains) an enum. */
export function enumValues(t: ParamType): string[] {
  return alternatives(t).flatMap((a) => (a !== null && typeof a === 'object' && 'enum' in a ? [...a.enum] : []));
}

/** Which control edits a type: a checkbox, a select, a number field or text. */
export function controlOf(t: ParamType): 'bool' | 'enum' | 'int' | 'float' | 'text' {
  const alts = alternatives(t).filter((a) => a !== null);
  if (alts.length === 1) {
    const a = alts[0]!;
    if (a === 'bool') return 'bool';
    if (a === 'int') return 'int';
    if (a === 'float') return 'float';
    if (typeof a === 'object' && 'enum' in a) return 'enum';
  }
  return 'text';
}

export function allowsNone(t: ParamType): boolean {
  return alternatives(t).includes(null);
}

/** A value as the user reads and types it: tuples as "3, 3", None as "None", text as is. */
export function formatValue(v: JsonValue | undefined): string {
  if (v === undefined) return '';
  if (v === null) return 'None';
  if (Array.isArray(v)) return v.map((x) => (Array.isArray(x) ? `(${formatValue(x)})` : formatValue(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const INT = /^[-+]?\d+$/;

function parseOne(t: ParamType, text: string): Parsed {
  const s = text.trim();
  if (typeof t === 'string') {
    switch (t) {
      case 'int':
        return INT.test(s) ? { ok: true, value: Number.parseInt(s, 10) } : { ok: false, error: 'expected a whole number' };
      case 'float': {
        const v = Number(s);
        return s !== '' && Number.isFinite(v) ? { ok: true, value: v } : { ok: false, error: 'expected a number' };
      }
      case 'bool':
        if (/^(true|false)$/i.test(s)) return { ok: true, value: s.toLowerCase() === 'true' };
        return { ok: false, error: 'expected True or False' };
      case 'str':
        return { ok: true, value: stripQuotes(text) };
      case 'any':
        try {
          return { ok: true, value: JSON.parse(s) as JsonValue };
        } catch {
          return { ok: true, value: stripQuotes(text) };
        }
    }
  }
  if ('enum' in t) {
    const v = stripQuotes(s);
    return t.enum.includes(v) ? { ok: true, value: v } : { ok: false, error: `expected one of ${t.enum.join(', ')}` };
  }
  if ('tuple' in t) {
    const inner = s.replace(/^[([]\s*/, '').replace(/\s*[)\]]$/, '');
    const parts = inner === '' ? [] : inner.split(',').map((p) => p.trim()).filter((p, i, all) => p !== '' || i < all.length - 1);
    const values: JsonValue[] = [];
    for (const p of parts) {
      const r = parseValue(t.tuple, p);
      if (!r.ok) return { ok: false, error: `tuple element “${p}”: ${r.error}` };
      values.push(r.value);
    }
    return { ok: true, value: values };
  }
  return parseValue(t, s);
}

/**
 * Reads what the user typed for a parameter of type `t`. The alternatives of
 * a union are tried in a fixed order (None, bool, int, float, enum, tuple,
 * then free text) so a number is never taken as text.
 */
export function parseValue(t: ParamType, text: string): Parsed {
  const s = text.trim();
  const alts = alternatives(t);
  if (alts.length === 1 && alts[0] !== null) return parseOne(alts[0]!, text);
  if (alts.includes(null) && /^none$/i.test(s)) return { ok: true, value: null };
  const rank = (a: ParamType): number => {
    if (typeof a === 'string') return { bool: 0, int: 1, float: 2, str: 6, any: 7 }[a];
    if ('enum' in a) return 3;
    if ('tuple' in a) return s.includes(',') || /^[([]/.test(s) ? 0.5 : 4;
    return 5;
  };
  const ordered = alts.filter((a): a is ParamType => a !== null).sort((a, b) => rank(a) - rank(b));
  const errors: string[] = [];
  for (const a of ordered) {
    const r = parseOne(a, text);
    if (r.ok) return r;
    errors.push(r.error);
  }
  return { ok: false, error: `expected ${describeType(t)}` };
}

function stripQuotes(s: string): string {
  const m = /^\s*(['"])(.*)\1\s*$/.exec(s);
  return m ? m[2]! : s.trim();
}
