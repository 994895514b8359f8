import { describe, expect, it } from 'vitest';
import { collaborators, remoteSelections } from './presence';

describe('presence', () => {
  it('labels repeated users, marks self and maps others’ selections', () => {
    const people = collaborators(
      [
        { connection: '2', user: 'local', selection: ['n1'] },
        { connection: '10', user: 'local', selection: ['n1', 'n2'] },
        { connection: '3', user: 'ada', selection: [] },
      ],
      '2',
    );
    expect(people.map((p) => [p.label, p.self])).toEqual([
      ['local', true],
      ['ada', false],
      ['local 2', false],
    ]);
    const marks = remoteSelections(people);
    expect(marks.get('n1')?.map((m) => m.name)).toEqual(['local 2']);
    expect(marks.get('n2')).toHaveLength(1);
    expect(people[0]!.colour).toMatch(/^#[0-9a-f]{6}$/);
  });
});
