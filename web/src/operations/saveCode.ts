// What saving an operation's code sends: the "code" set_attr plus, when the
// code's interface is known, the ops that bring the definition's ports and
// attributes in line with it (model/interfaceSync) — one patch, one undo
// step — and the message the editor shows afterwards.

import type { OperationInterface } from '@kiln/client';
import { interfaceSyncOps, type Guid, type Op, type Tree } from '../model';

export interface CodeSave {
  readonly ops: Op[];
  /** The toast: what changed, and which connections went. */
  readonly message: string;
  /** True when connections were deleted (the editor may want to stress it). */
  readonly removedConnections: number;
}

const MAX_LISTED = 4;

function list(items: readonly string[]): string {
  if (items.length <= MAX_LISTED) return items.join('; ');
  return `${items.slice(0, MAX_LISTED).join('; ')}; and ${items.length - MAX_LISTED} more`;
}

/**
 * The save of `code` into `definition`. `iface` is the code's parsed
 * interface, or null when it does not parse (or could not be read): then only
 * the code is saved, as before.
 */
export function codeSaveOps(
  tree: Tree,
  definition: Guid,
  code: string,
  iface: OperationInterface | null,
  verb = 'Code saved',
): CodeSave {
  const ops: Op[] = [{ op: 'set_attr', node: definition, name: 'code', value: code }];
  if (iface === null) return { ops, message: `${verb} (its interface could not be read, so ports and attributes were left as they were)`, removedConnections: 0 };
  let sync;
  try {
    sync = interfaceSyncOps(tree, definition, iface);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ops, message: `${verb}; the interface was not applied: ${why}`, removedConnections: 0 };
  }
  ops.push(...sync.ops);
  let message = sync.changes.length > 0 ? `${verb}: ${list(sync.changes)}` : verb;
  const removed = sync.removedConnections;
  if (removed.length > 0) {
    const what = removed.length === 1 ? '1 connection' : `${removed.length} connections`;
    const why = (c: (typeof removed)[number]) => (c.reason === 'port removed' ? 'its port is gone' : 'types no longer match');
    message += `. Removed ${what}: ${list(removed.map((c) => `${c.label} (${why(c)})`))}`;
  }
  return { ops, message, removedConnections: removed.length };
}
