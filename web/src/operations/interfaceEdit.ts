// Pure logic of the operation editor's code ↔ interface sync, apart from the
// views so that it is testable: where a parse problem sits in the text (a
// CodeMirror diagnostic range), and the edits a user can make to an
// interface (add, rename, remove, retype an input/output/attribute, change a
// default). Every function returns a new value; nothing is mutated.
import type { InterfaceAttribute, InterfacePort, InterfaceProblem, OperationInterface } from '@kiln/client';
import type { JsonValue } from '../model';

/** A diagnostic in document offsets (UTF-16 code units, as CodeMirror counts). */
export interface ProblemRange {
  readonly from: number;
  readonly to: number;
  readonly message: string;
}

/**
 * Where `problem` sits in `text`: from its (1-based) column to the end of its
 * line (empty when it points past the end); the whole first line when the
 * problem has no position. Python counts columns in characters, so astral
 * characters (two code units) are walked one by one. Positions past the end
 * are clamped to the text.
 */
export function problemRange(text: string, problem: InterfaceProblem): ProblemRange {
  const lines = text.split('\n');
  const lineNo = Math.min(Math.max(problem.line ?? 1, 1), lines.length);
  let start = 0;
  for (let i = 0; i < lineNo - 1; i++) start += lines[i]!.length + 1;
  const line = lines[lineNo - 1]!;
  let col = 0; // in code units
  if (problem.line !== null && problem.column !== null) {
    const chars = Array.from(line);
    for (let i = 0; i < Math.min(problem.column - 1, chars.length); i++) col += chars[i]!.length;
  }
  const from = start + col;
  // Past the end of the line (Python points after a dangling "+"), the range
  // is empty: CodeMirror shows that as a point marker.
  const to = Math.max(from, start + line.length);
  const where = problem.line !== null ? `line ${problem.line}${problem.column !== null ? `, column ${problem.column}` : ''}: ` : '';
  return { from, to, message: `${where}${problem.message}` };
}

export type Section = 'inputs' | 'outputs' | 'attributes';

const PY_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

/** Why `name` cannot be a field of `section`, or null when it can. */
export function nameProblem(iface: OperationInterface, section: Section, index: number, name: string): string | null {
  if (!PY_IDENTIFIER.test(name)) return `“${name}” is not a Python name (letters, digits and _; not starting with a digit)`;
  if (PY_KEYWORDS.has(name)) return `“${name}” is a Python keyword`;
  if (name === 'self') return '“self” is taken by Python';
  // __init__ takes both: an attribute cannot share a reference's name.
  if (section === 'attributes' && (iface.references ?? []).some((r) => r.name === name)) return `“${name}” is a reference (${iface.references!.find((r) => r.name === name)!.type})`;
  // Inputs and attributes share a namespace with nothing else, but names within a section must differ.
  if (iface[section].some((f, i) => i !== index && f.name === name)) return `there is already a${section === 'attributes' ? 'n attribute' : section === 'inputs' ? 'n input' : 'n output'} “${name}”`;
  return null;
}

function replaceAt<T>(list: readonly T[], index: number, value: T): T[] {
  return list.map((x, i) => (i === index ? value : x));
}

/** A name like base, base2, base3… not yet used in `section`. */
export function freshName(iface: OperationInterface, section: Section, base: string): string {
  const taken = new Set(iface[section].map((f) => f.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

export function addField(iface: OperationInterface, section: Section): OperationInterface {
  if (section === 'attributes') {
    const a: InterfaceAttribute = { name: freshName(iface, section, 'param'), type: 'int', default: 0 };
    return { ...iface, attributes: [...iface.attributes, a] };
  }
  const p: InterfacePort = { name: freshName(iface, section, section === 'inputs' ? 'data' : 'result'), type: 'any' };
  return { ...iface, [section]: [...iface[section], p] };
}

export function removeField(iface: OperationInterface, section: Section, index: number): OperationInterface {
  return { ...iface, [section]: iface[section].filter((_, i) => i !== index) };
}

export function renameField(iface: OperationInterface, section: Section, index: number, name: string): OperationInterface {
  const list = iface[section] as readonly (InterfacePort | InterfaceAttribute)[];
  const f = list[index];
  if (!f || f.name === name) return iface;
  return { ...iface, [section]: replaceAt(list, index, { ...f, name }) };
}

/** A new type; an attribute's default is converted when it can be, else dropped. */
export function retypeField(iface: OperationInterface, section: Section, index: number, type: string): OperationInterface {
  const t = type.trim() || 'any';
  if (section !== 'attributes') {
    const f = iface[section][index];
    if (!f || f.type === t) return iface;
    return { ...iface, [section]: replaceAt(iface[section], index, { ...f, type: t }) };
  }
  const a = iface.attributes[index];
  if (!a || a.type === t) return iface;
  const converted = a.default === null ? null : convertDefault(t, a.default);
  const next: InterfaceAttribute = { name: a.name, type: t, default: converted ?? null, ...(converted === null && a.default !== null ? { required: true } : {}) };
  return { ...iface, attributes: replaceAt(iface.attributes, index, next) };
}

export function setDefault(iface: OperationInterface, index: number, value: JsonValue): OperationInterface {
  const a = iface.attributes[index];
  if (!a) return iface;
  const { required: _r, expr: _e, ...rest } = a;
  return { ...iface, attributes: replaceAt(iface.attributes, index, { ...rest, default: value }) };
}

/** `value` as a default of `type`, or null when it does not fit. */
function convertDefault(type: string, value: JsonValue): JsonValue | null {
  switch (type) {
    case 'int':
      return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : typeof value === 'boolean' ? Number(value) : null;
    case 'float':
      return typeof value === 'number' ? value : null;
    case 'bool':
      return typeof value === 'boolean' ? value : null;
    case 'str':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      return value;
  }
}

/** What the user typed in a default field, read for `type`; an error text when it does not fit. */
export function parseDefault(type: string, text: string): { ok: true; value: JsonValue } | { ok: false; error: string } {
  const t = text.trim();
  switch (type) {
    case 'int':
      return /^[-+]?\d+$/.test(t) ? { ok: true, value: Number.parseInt(t, 10) } : { ok: false, error: 'expected a whole number' };
    case 'float': {
      const v = Number(t);
      return t !== '' && Number.isFinite(v) ? { ok: true, value: v } : { ok: false, error: 'expected a number' };
    }
    case 'bool':
      if (/^(true|True)$/.test(t)) return { ok: true, value: true };
      if (/^(false|False)$/.test(t)) return { ok: true, value: false };
      return { ok: false, error: 'expected true or false' };
    case 'str':
      return { ok: true, value: text };
    default:
      if (t === 'None') return { ok: true, value: null };
      try {
        return { ok: true, value: JSON.parse(t) as JsonValue };
      } catch {
        return { ok: false, error: 'expected a JSON value (e.g. 3, "text", [1, 2])' };
      }
  }
}

/** A default as the user sees it in its field. */
export function defaultText(a: InterfaceAttribute): string {
  if (a.expr !== undefined) return a.expr;
  if (a.default === null) return a.required ? '' : 'None';
  if (a.type === 'str' && typeof a.default === 'string') return a.default;
  if (typeof a.default === 'boolean') return a.default ? 'True' : 'False';
  return JSON.stringify(a.default);
}
