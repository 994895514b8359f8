// Project names as the server accepts them (ValidateProjectName in
// src/model/repository.cc: 1 to 64 of [A-Za-z0-9_.-], not starting with a
// dot), checked in the create, fork and import forms before anything is sent.
// Pure.

export const MAX_PROJECT_NAME = 64;
const NAME_RE = /^[A-Za-z0-9_.-]+$/;

/** Why `name` (trimmed) cannot name a new project, or null; '' is not a problem yet. */
export function projectNameProblem(name: string, taken: readonly string[] = []): string | null {
  if (name === '') return null;
  if (!NAME_RE.test(name)) return 'Use letters, digits, dot, dash and underscore only.';
  if (name.startsWith('.')) return 'A project name cannot start with a dot.';
  if (name.length > MAX_PROJECT_NAME) return `At most ${MAX_PROJECT_NAME} characters.`;
  return taken.includes(name) ? 'A project with this name exists.' : null;
}

/** `base` when it is free, else base-2, base-3, … (cut so that it stays a valid length). */
export function freeProjectName(base: string, taken: readonly string[]): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) {
    const suffix = `-${i}`;
    const name = `${base.slice(0, MAX_PROJECT_NAME - suffix.length)}${suffix}`;
    if (!taken.includes(name)) return name;
  }
}
