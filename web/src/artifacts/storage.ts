// Where artifacts live (docs/storage.md, "Several backends"): the pure part
// of the artifacts view's storage column, its "Copy to…" / "Move to…"
// choices and the project's "new artifacts go to" setting. Nothing here
// talks to the server (StorageControls.tsx does).
import type { Artifact, ProjectStorage, StorageBackend } from '@kiln/client';

/** The storage column and its actions are shown only when there is a choice. */
export function showsStorage(backends: readonly StorageBackend[]): boolean {
  return backends.length > 1;
}

/** The stores holding the artifact, as listed by the server ([] when gone or not said). */
export function storesOf(a: Artifact): readonly string[] {
  return Array.isArray(a.stores) ? a.stores.filter((s): s is string => typeof s === 'string') : [];
}

/** Backends a copy can go to: those that do not hold it yet (none when it is nowhere). */
export function copyTargets(backends: readonly StorageBackend[], a: Artifact): string[] {
  const held = storesOf(a);
  if (held.length === 0) return [];
  return backends.map((b) => b.name).filter((n) => !held.includes(n));
}

/** Backends a move can go to: any but the only one holding it already. */
export function moveTargets(backends: readonly StorageBackend[], a: Artifact): string[] {
  const held = storesOf(a);
  if (held.length === 0) return [];
  return backends.map((b) => b.name).filter((n) => !(held.length === 1 && held[0] === n));
}

/** An action chosen in the row's select, encoded as its option value ("copy:s3"). */
export type StorageAction = { readonly verb: 'copy' | 'move'; readonly to: string };

export function actionValue(action: StorageAction): string {
  return `${action.verb}:${action.to}`;
}

export function parseAction(value: string): StorageAction | null {
  const colon = value.indexOf(':');
  if (colon <= 0) return null;
  const verb = value.slice(0, colon);
  const to = value.slice(colon + 1);
  if ((verb !== 'copy' && verb !== 'move') || to === '') return null;
  return { verb, to };
}

/** What the row says after an action: "Moved weights.bin to s3" / "… was already in s3". */
export function actionMessage(name: string, action: StorageAction, changed: boolean): string {
  if (!changed) return `${name} was already in ${action.to}`;
  return `${action.verb === 'move' ? 'Moved' : 'Copied'} ${name} to ${action.to}`;
}

/** The project setting's options: the default first, marked as such. */
export function storageChoices(backends: readonly StorageBackend[]): { value: string; label: string }[] {
  return backends.map((b) => ({ value: b.name, label: b.default ? `${b.name} (default)` : b.name }));
}

/** The value the project setting's select shows. */
export function chosenBackend(choice: ProjectStorage | null, backends: readonly StorageBackend[]): string {
  if (choice) return choice.backend;
  return backends.find((b) => b.default)?.name ?? '';
}

/** What PUT /projects/{p}/storage gets for a select value: null for the default (no choice). */
export function choiceFor(value: string, backends: readonly StorageBackend[]): string | null {
  return backends.find((b) => b.name === value)?.default ? null : value;
}
