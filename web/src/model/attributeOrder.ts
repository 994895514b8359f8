// The order of an operation's attributes (its constructor parameters) as the
// code declares them. The server keeps a node's attributes in a sorted map
// (src/core/value.h, Value::Map orders bytewise, as the canonical encoding
// needs), so after a reload they come back alphabetical. The code's order is
// therefore kept apart, as editor data on the definition: the registry entry
// "attributeOrder", a list of names, written by interfaceSync when code is
// saved and inherited by the instances through their base. The server stores
// it opaquely; it is not part of a job's attributes or its cache key.
//
// A definition without it (built by a script, or saved before it existed)
// falls back to the order of the names in the code's `__init__` signatures.
// Pure.

import { effectiveAttr, effectiveRegistry } from './tree';
import type { Guid, Tree } from './types';

export const ATTRIBUTE_ORDER = 'attributeOrder';

/** The parameter names of every `def __init__(…)` in `code`, in order (self, *args, **kwargs excluded). */
export function codeParameterOrder(code: string): string[] {
  const out: string[] = [];
  const re = /\bdef\s+__init__\s*\(/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    // The signature up to its closing parenthesis (defaults may hold brackets).
    let depth = 1;
    let i = m.index + m[0].length;
    let param = '';
    const params: string[] = [];
    for (; i < code.length && depth > 0; i++) {
      const c = code[i]!;
      if (c === '"' || c === "'") {
        // A string default: skip to its end (commas and brackets inside do not count).
        let j = i + 1;
        while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
        param += code.slice(i, j + 1);
        i = j;
        continue;
      }
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      if (depth === 0 || (depth === 1 && c === ',')) {
        params.push(param);
        param = '';
      } else param += c;
    }
    for (const p of params) {
      const name = /^\s*([A-Za-z_]\w*)/.exec(p)?.[1];
      if (name && name !== 'self' && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** The declared order of `guid`'s attributes: its (inherited) "attributeOrder", else its code's. */
export function attributeOrder(tree: Tree, guid: Guid): string[] {
  const recorded = effectiveRegistry(tree, guid, ATTRIBUTE_ORDER);
  if (Array.isArray(recorded) && recorded.every((x) => typeof x === 'string')) return recorded as string[];
  const code = effectiveAttr(tree, guid, 'code');
  return typeof code === 'string' ? codeParameterOrder(code) : [];
}

/** `items` in `order`; names it does not list keep their relative order, after the listed ones. */
export function sortByOrder<T extends { readonly name: string }>(items: readonly T[], order: readonly string[]): T[] {
  const rank = new Map(order.map((n, i) => [n, i] as const));
  return items
    .map((item, i) => ({ item, key: rank.get(item.name) ?? order.length + i }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);
}
