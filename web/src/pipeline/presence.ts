// Collaborators as the views show them: a colour and a name per connection,
// and which nodes each of the others has selected.
import type { Guid } from '../model';
import type { PresenceUser } from '../sync/protocol';
import { userColour } from '../ui/format';
import type { RemoteMark } from '../graph/PortNode';

export interface Collaborator {
  readonly connection: string;
  readonly user: string;
  /** "local", or "local 2" when the same user is here twice. */
  readonly label: string;
  readonly colour: string;
  readonly self: boolean;
  readonly selection: readonly Guid[];
}

export function collaborators(users: readonly PresenceUser[], ownConnection: string | undefined): Collaborator[] {
  const seen = new Map<string, number>();
  const sorted = [...users].sort((a, b) => a.connection.localeCompare(b.connection, undefined, { numeric: true }));
  return sorted.map((u) => {
    const n = (seen.get(u.user) ?? 0) + 1;
    seen.set(u.user, n);
    return {
      connection: u.connection,
      user: u.user,
      label: n === 1 ? u.user : `${u.user} ${n}`,
      colour: userColour(`${u.user}#${u.connection}`),
      self: u.connection === ownConnection,
      selection: u.selection ?? [],
    };
  });
}

/** Node guid → the marks of the other collaborators who selected it. */
export function remoteSelections(people: readonly Collaborator[]): Map<Guid, RemoteMark[]> {
  const out = new Map<Guid, RemoteMark[]>();
  for (const p of people) {
    if (p.self) continue;
    for (const g of p.selection) {
      const list = out.get(g);
      const mark = { colour: p.colour, name: p.label };
      if (list) list.push(mark);
      else out.set(g, [mark]);
    }
  }
  return out;
}
