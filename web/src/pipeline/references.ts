// References of operation instances (docs/libraries.md, "Operations that
// reference a resource"): a constructor parameter annotated with a library's
// resource type (`net: kiln.Architecture`) is not an attribute; the instance
// holds a pointer of that name to a resource node, and the job receives the
// resource's generated class in its place.
//
// The pipeline editor needs the references of every node on the canvas
// synchronously, so they are read from the definition's code here with the
// same rule as python/kiln/interface.py (_reference_type: the annotation is
// `Architecture` or `kiln.Architecture`, quoted or not) instead of a round
// trip to the server's parser per definition. Pure: no React, no network.

import { metaGuid } from '../architecture/catalog';
import { effectiveAttr, effectivePointer, inheritsFrom, isMetaNode, type Guid, type JsonValue, type Op, type Tree } from '../model';

/** The resource types an operation can reference, by annotation (interface.py REFERENCE_TYPES). */
export const REFERENCE_TYPES = ['Architecture'] as const;
export type ReferenceType = (typeof REFERENCE_TYPES)[number];

export interface ReferenceSpec {
  readonly name: string;
  readonly type: ReferenceType;
}

/** One reference of an instance, with where it points. */
export interface InstanceReference extends ReferenceSpec {
  /** The pointer's target; null when unset. */
  readonly target: Guid | null;
  /** The target's name ("DigitsCNN"), or null when unset or gone. */
  readonly targetName: string | null;
  /** What is wrong with it, in words, or null. */
  readonly problem: string | null;
}

export interface ResourceChoice {
  readonly guid: Guid;
  readonly name: string;
}

/** The index of the bracket closing the one at `open`, skipping strings and comments; -1 if none. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return -1;
      i = nl;
    } else if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < text.length && !text.startsWith(quote, j)) j += text[j] === '\\' ? 2 : 1;
      i = j + quote.length - 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Splits a parameter list at its top-level commas. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((p) => p.replace(/#[^\n]*/g, '').trim()).filter((p) => p !== '');
}

/** The reference type an annotation names, or null (interface.py _reference_type). */
export function referenceType(annotation: string): ReferenceType | null {
  const text = annotation.trim().replace(/^(['"])(.*)\1$/s, '$2').trim();
  for (const t of REFERENCE_TYPES) if (text === t || text === `kiln.${t}`) return t;
  return null;
}

const parsed = new Map<string, readonly ReferenceSpec[]>();

/**
 * The references an operation's code declares: the parameters of the first
 * `__init__` annotated with a resource type, in parameter order. Code that
 * is not a string, or has no `__init__`, declares none.
 */
export function codeReferences(code: JsonValue | undefined): readonly ReferenceSpec[] {
  if (typeof code !== 'string') return [];
  const cached = parsed.get(code);
  if (cached) return cached;
  const out: ReferenceSpec[] = [];
  const m = /\bdef\s+__init__\s*\(/.exec(code);
  if (m) {
    const open = m.index + m[0].length - 1;
    const close = closingBracket(code, open);
    const params = close < 0 ? [] : splitParams(code.slice(open + 1, close));
    for (const p of params) {
      const d = /^([A-Za-z_]\w*)\s*:([^=]*)(=.*)?$/s.exec(p);
      if (!d) continue;
      const type = referenceType(d[2]!);
      if (type) out.push({ name: d[1]!, type });
    }
  }
  if (parsed.size > 500) parsed.clear(); // code strings of a session; bounded
  parsed.set(code, out);
  return out;
}

function nodeName(tree: Tree, guid: Guid): string {
  const n = effectiveAttr(tree, guid, 'name');
  return typeof n === 'string' && n !== '' ? n : guid.slice(0, 8);
}

/** Whether `guid` is a resource node of `type` (an instance of the library's meta type, not the meta type itself). */
export function isResource(tree: Tree, guid: Guid, type: ReferenceType): boolean {
  return tree.nodes[guid] !== undefined && !isMetaNode(tree, guid) && inheritsFrom(tree, guid, metaGuid(type));
}

/**
 * What a reference of `type` can point at: the project's Architecture nodes
 * (instances of DeriveGuid("kiln-library-torch", "meta/Architecture")), by
 * name. Empty when the project does not use the library.
 */
export function resourceChoices(tree: Tree, type: ReferenceType): ResourceChoice[] {
  if (tree.nodes[metaGuid(type)] === undefined) return [];
  const out: ResourceChoice[] = [];
  for (const guid of Object.keys(tree.nodes))
    if (isResource(tree, guid, type)) out.push({ guid, name: nodeName(tree, guid) });
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.guid.localeCompare(b.guid));
}

const ARTICLE: Record<ReferenceType, string> = { Architecture: 'an architecture' };

/** The references an instance's code declares, with their targets and problems. */
export function instanceReferences(tree: Tree, instance: Guid): InstanceReference[] {
  if (!tree.nodes[instance]) return [];
  const owner = nodeName(tree, instance);
  return codeReferences(effectiveAttr(tree, instance, 'code')).map((spec) => {
    const target = effectivePointer(tree, instance, spec.name) ?? null;
    let problem: string | null = null;
    let targetName: string | null = null;
    if (target === null) problem = `${owner} needs ${ARTICLE[spec.type]} for '${spec.name}'`;
    else if (!tree.nodes[target]) problem = `'${spec.name}' of ${owner} points at a node that no longer exists`;
    else {
      targetName = nodeName(tree, target);
      if (!isResource(tree, target, spec.type))
        problem = `'${spec.name}' of ${owner} points at ${targetName}, which is not ${ARTICLE[spec.type]}`;
    }
    return { ...spec, target, targetName, problem };
  });
}

/** The canvas lines of an instance: "net → DigitsCNN", "net → not set". */
export function referenceLines(tree: Tree, instance: Guid): string[] {
  return instanceReferences(tree, instance).map(
    (r) => `${r.name} → ${r.target === null ? 'not set' : (r.targetName ?? 'missing')}`,
  );
}

/** Points reference `name` of `instance` at `target` (null clears it); no ops when it already does. */
export function setReferenceOps(tree: Tree, instance: Guid, name: string, target: Guid | null): Op[] {
  if ((effectivePointer(tree, instance, name) ?? null) === target) return [];
  return [{ op: 'set_pointer', node: instance, name, target }];
}

/** The undo label of that edit. */
export function setReferenceLabel(tree: Tree, instance: Guid, name: string, target: Guid | null): string {
  const owner = nodeName(tree, instance);
  return target === null ? `Clear ${name} of ${owner}` : `Point ${name} of ${owner} at ${nodeName(tree, target)}`;
}
