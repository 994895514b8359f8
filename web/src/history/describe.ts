// Turns the patch operations of a diff (GET diff?from=&to=) into sentences a
// person can read: "Added operation “Train 2”", "Set epochs of “Train” to 3",
// "Connected Split.train_images → Train.train_images". Names come from the
// trees at both ends (the old one for what was removed). Children created
// together with their parent (an operation's ports) are folded into the
// parent's line.
import { ATTRIBUTE_ORDER, effectiveAttr, effectivePointer, metaTypeOf, type Guid, type JsonValue, type Op, type Tree } from '../model';

export type ChangeKind = 'added' | 'changed' | 'removed' | 'moved';

export interface Change {
  readonly kind: ChangeKind;
  readonly text: string;
  /** Extra lines (a code change's size, a long value). */
  readonly detail?: string;
}

function name(trees: readonly Tree[], guid: Guid): string {
  for (const t of trees) {
    const n = effectiveAttr(t, guid, 'name');
    if (typeof n === 'string' && n) return n;
  }
  return guid.slice(0, 8);
}

function typeOf(trees: readonly Tree[], guid: Guid): string {
  for (const t of trees) {
    if (!t.nodes[guid]) continue;
    const m = metaTypeOf(t, guid);
    if (m) return m === 'FCO' ? 'node' : m.toLowerCase();
    return 'node';
  }
  return 'node';
}

function portLabel(trees: readonly Tree[], port: Guid | null | undefined): string {
  if (!port) return '?';
  for (const t of trees) {
    const n = t.nodes[port];
    if (n) return `${n.parent ? name(trees, n.parent) : '?'}.${name(trees, port)}`;
  }
  return port.slice(0, 8);
}

export function valueText(v: JsonValue): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function lines(v: JsonValue | undefined): number {
  return typeof v === 'string' ? v.split('\n').length : 0;
}

export function describeOps(ops: readonly Op[], from: Tree, to: Tree): Change[] {
  const after = [to, from];
  const before = [from, to];
  const created = new Set(ops.filter((o) => o.op === 'create').map((o) => (o as { guid: Guid }).guid));
  const out: Change[] = [];
  const folded = new Map<Guid, number>(); // parent → created children folded in
  for (const op of ops) if (op.op === 'create' && created.has(op.parent)) folded.set(op.parent, (folded.get(op.parent) ?? 0) + 1);

  for (const op of ops) {
    switch (op.op) {
      case 'create': {
        if (created.has(op.parent)) break;
        const type = typeOf(after, op.guid);
        if (type === 'connection') {
          const src = op.pointers?.['src'] ?? effectivePointer(to, op.guid, 'src');
          const dst = op.pointers?.['dst'] ?? effectivePointer(to, op.guid, 'dst');
          out.push({ kind: 'added', text: `Connected ${portLabel(after, src)} → ${portLabel(after, dst)}` });
          break;
        }
        const kids = folded.get(op.guid) ?? 0;
        const base = op.base ? ` (from ${name(after, op.base)})` : '';
        const where = ` in “${name(after, op.parent)}”`;
        out.push({
          kind: 'added',
          text: `Added ${type} “${name(after, op.guid)}”${type === 'operation' && op.base ? base : ''}${where}`,
          ...(kids > 0 ? { detail: `with ${kids} child node${kids > 1 ? 's' : ''}` } : {}),
        });
        break;
      }
      case 'delete': {
        const type = typeOf(before, op.node);
        if (type === 'connection') {
          const src = effectivePointer(from, op.node, 'src');
          const dst = effectivePointer(from, op.node, 'dst');
          out.push({ kind: 'removed', text: `Disconnected ${portLabel(before, src)} → ${portLabel(before, dst)}` });
        } else out.push({ kind: 'removed', text: `Removed ${type} “${name(before, op.node)}”` });
        break;
      }
      case 'set_attr': {
        if (created.has(op.node)) break;
        const who = `${typeOf(after, op.node)} “${name(before, op.node)}”`;
        if (op.name === 'code') {
          const old = lines(effectiveAttr(from, op.node, 'code'));
          out.push({ kind: 'changed', text: `Edited the code of ${who}`, detail: `${old} → ${lines(op.value)} lines` });
        } else if (op.name === 'name') {
          out.push({ kind: 'changed', text: `Renamed ${who} to “${String(op.value)}”` });
        } else {
          const old = effectiveAttr(from, op.node, op.name);
          out.push({
            kind: 'changed',
            text: `Set ${op.name} of ${who} to ${valueText(op.value)}`,
            ...(old !== undefined ? { detail: `was ${valueText(old)}` } : {}),
          });
        }
        break;
      }
      case 'del_attr':
        out.push({
          kind: 'changed',
          text: `Reset ${op.name} of ${typeOf(after, op.node)} “${name(after, op.node)}” to the inherited value`,
        });
        break;
      case 'set_registry':
      case 'del_registry':
        if (created.has(op.node)) break;
        if (op.name === 'position') out.push({ kind: 'moved', text: `Moved “${name(after, op.node)}” on the canvas` });
        else if (op.name === ATTRIBUTE_ORDER) out.push({ kind: 'changed', text: `Reordered the attributes of “${name(after, op.node)}”` });
        else out.push({ kind: 'changed', text: `Changed editor data ${op.name} of “${name(after, op.node)}”` });
        break;
      case 'set_pointer':
      case 'del_pointer':
        if (created.has(op.node)) break;
        out.push({
          kind: 'changed',
          text:
            op.op === 'set_pointer'
              ? `Pointed ${op.name} of “${name(after, op.node)}” to ${op.target ? `“${name(after, op.target)}”` : 'nothing'}`
              : `Reset pointer ${op.name} of “${name(after, op.node)}”`,
        });
        break;
      case 'move':
        out.push({ kind: 'moved', text: `Moved “${name(after, op.node)}” into “${name(after, op.parent)}”` });
        break;
      case 'copy':
        out.push({ kind: 'added', text: `Copied “${name(before, op.node)}” into “${name(after, op.parent)}”` });
        break;
    }
  }
  return out;
}
