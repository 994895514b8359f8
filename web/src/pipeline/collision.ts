// An attribute field's edit against remote changes. The inspector keeps the
// value the user's typing started from (`base`); when the stored value
// (`theirs`) moves while the text differs from `base`, the typing is kept and
// the field shows a collision instead of either silently dropping the typing
// or, on commit, silently overwriting the other person's value. The commit
// itself goes through model/collide's decideSave. Pure.

import { decideSave, jsonEqual, type JsonValue } from '../model';
import { parseAttribute, type AttributeType } from './model';

export type FieldState =
  /** The text shows `base` (or means the same value): follow remote changes. */
  | { readonly kind: 'clean' }
  /** The user typed something; nobody else changed the value. */
  | { readonly kind: 'editing' }
  /** The user typed something and the stored value moved under it. */
  | { readonly kind: 'collision'; readonly base: JsonValue; readonly theirs: JsonValue };

/** Whether `text` means something other than `base` (unparsable text counts as typed). */
export function typed(type: AttributeType, text: string, base: JsonValue): boolean {
  const r = parseAttribute(type, text);
  return !r.ok || !jsonEqual(r.value, base);
}

export function fieldState(type: AttributeType, text: string, base: JsonValue, theirs: JsonValue): FieldState {
  if (!typed(type, text, base)) return { kind: 'clean' };
  if (jsonEqual(base, theirs)) return { kind: 'editing' };
  return { kind: 'collision', base, theirs };
}

export type FieldCommit =
  | { readonly kind: 'invalid'; readonly error: string }
  /** Write `value` (set_attr). */
  | { readonly kind: 'write'; readonly value: JsonValue }
  /** Nothing to write: the stored value already is the typed one. */
  | { readonly kind: 'nothing'; readonly value: JsonValue }
  /** Someone else changed it: the user chooses between theirs and mine. */
  | { readonly kind: 'ask'; readonly base: JsonValue; readonly theirs: JsonValue; readonly mine: JsonValue };

/** What committing `text` (Enter, leaving the field) does. */
export function commitField(type: AttributeType, text: string, base: JsonValue, theirs: JsonValue): FieldCommit {
  const r = parseAttribute(type, text);
  if (!r.ok) return { kind: 'invalid', error: r.error };
  const d = decideSave(base, theirs, r.value);
  if (d.kind === 'nothing') return { kind: 'nothing', value: r.value };
  if (d.kind === 'save') return { kind: 'write', value: r.value };
  return { kind: 'ask', base, theirs, mine: r.value };
}
