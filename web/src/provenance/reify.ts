// The pure part of "Make a pipeline from this" (ReifyDialog): the branch
// name it proposes and the checks a name must pass before it is sent — the
// server's rules for ref names (src/store/object_store.cc ValidateRefName)
// and no existing branch (the server's 409), said before asking.

/** reproduce-<digest8>, or with -2, -3, … when that branch exists. */
export function defaultBranchName(digest: string, existing: readonly string[] = []): string {
  const base = `reproduce-${digest.slice(0, 8)}`;
  const taken = new Set(existing);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** Null when `name` can be a new branch; else what is wrong with it, as a sentence. */
export function branchNameProblem(name: string, existing: readonly string[] = []): string | null {
  if (name === '') return 'Give the branch a name.';
  if (name.length > 255) return 'A branch name has at most 255 characters.';
  const bad = [...name].find((c) => !/[A-Za-z0-9._/-]/.test(c));
  if (bad !== undefined)
    return `${/\s/.test(bad) ? 'A space' : `“${bad}”`} cannot be in a branch name: use letters, digits, '.', '_', '-' and '/'.`;
  if (name.startsWith('/') || name.endsWith('/')) return 'A branch name cannot start or end with “/”.';
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'A branch name cannot have an empty, “.” or “..” part.';
  if (existing.includes(name)) return `Branch “${name}” exists already: choose another name.`;
  return null;
}
