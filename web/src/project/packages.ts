// A project's Python packages (docs/python-packages.md): pip requirement
// lines kept in the root node's attribute "requirements". Jobs install them
// once into a virtual environment shared by the project's jobs; the build's
// output is the first such job's console.
import type { Op, Tree } from '../model';

export const REQUIREMENTS_ATTR = 'requirements';

/** The project's requirement lines as written ('' when there are none). */
export function requirementsOf(tree: Tree): string {
  const v = tree.nodes[tree.root]?.attrs[REQUIREMENTS_ATTR];
  return typeof v === 'string' ? v : '';
}

/** The lines pip reads: comments and blank lines dropped (as kiln.venv normalizes). */
export function requirementLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => (l.trimStart().startsWith('#') ? '' : l.split(' #')[0]!.trim()))
    .filter((l) => l !== '');
}

/** The package names the list asks for (options such as --find-links left out). */
export function packageNames(text: string): string[] {
  return requirementLines(text)
    .filter((l) => !l.startsWith('-'))
    .map((l) => l.split(/[\s<>=!~;[@]/, 1)[0]!)
    .filter((n) => n !== '');
}

/** The edit that sets the list (a trailing newline added), or none when unchanged. */
export function setRequirementsOps(tree: Tree, text: string): Op[] {
  const next = text.trim() === '' ? '' : text.replace(/\s*$/, '\n');
  if (next === requirementsOf(tree)) return [];
  return [{ op: 'set_attr', node: tree.root, name: REQUIREMENTS_ATTR, value: next }];
}
