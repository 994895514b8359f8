import { describe, expect, it } from 'vitest';
import type { Tree } from '../model';
import { packageNames, requirementLines, requirementsOf, setRequirementsOps } from './packages';

const tree = (attrs: Record<string, string> = {}): Tree => ({
  root: 'r',
  nodes: { r: { guid: 'r', parent: null, base: null, attrs, pointers: {}, registry: {}, children: [] } },
});

describe("a project's Python packages", () => {
  it('reads the root attribute, none when absent', () => {
    expect(requirementsOf(tree())).toBe('');
    expect(requirementsOf(tree({ requirements: 'astropy\n' }))).toBe('astropy\n');
  });

  it('finds the lines and package names pip would read', () => {
    const text = '# for the fits\nastropy==5.2  # pinned\n\n--find-links /srv/wheels\nlmfit>=1.0\nrich[jupyter]\n';
    expect(requirementLines(text)).toEqual(['astropy==5.2', '--find-links /srv/wheels', 'lmfit>=1.0', 'rich[jupyter]']);
    expect(packageNames(text)).toEqual(['astropy', 'lmfit', 'rich']);
  });

  it('sets the list on the root, with a final newline; nothing when unchanged; clears it', () => {
    expect(setRequirementsOps(tree(), 'astropy')).toEqual([{ op: 'set_attr', node: 'r', name: 'requirements', value: 'astropy\n' }]);
    expect(setRequirementsOps(tree({ requirements: 'astropy\n' }), 'astropy\n\n')).toEqual([]);
    expect(setRequirementsOps(tree({ requirements: 'astropy\n' }), '  \n')).toEqual([
      { op: 'set_attr', node: 'r', name: 'requirements', value: '' },
    ]);
    expect(setRequirementsOps(tree(), '')).toEqual([]);
  });
});
