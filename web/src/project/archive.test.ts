import { ApiError } from '@kiln/client';
import { describe, expect, it } from 'vitest';
import { archiveFileName, exportErrorMessage, importErrorMessage, importSummary, projectNameFromFile } from './archive';
import { freeProjectName, projectNameProblem } from './projectName';

describe('projectNameFromFile', () => {
  it('takes the file name without .kiln', () => {
    expect(projectNameFromFile('digits.kiln')).toBe('digits');
    expect(projectNameFromFile('Digits.KILN')).toBe('Digits');
    expect(projectNameFromFile('my_proj-2.v1.kiln')).toBe('my_proj-2.v1');
    expect(projectNameFromFile('archive.zip')).toBe('archive.zip');
  });

  it('drops folders and the suffix of a repeated download', () => {
    expect(projectNameFromFile('C:\\fakepath\\digits.kiln')).toBe('digits');
    expect(projectNameFromFile('/home/ada/digits (2).kiln')).toBe('digits');
  });

  it('makes a valid name of anything', () => {
    expect(projectNameFromFile('protein folding – v2.kiln')).toBe('protein-folding-v2');
    expect(projectNameFromFile('.hidden.kiln')).toBe('hidden');
    expect(projectNameFromFile('ünï©ødé.kiln')).toBe('n-d');
    expect(projectNameFromFile('.kiln')).toBe('imported-project');
    expect(projectNameFromFile('€€€.kiln')).toBe('imported-project');
    const long = projectNameFromFile(`${'a'.repeat(63)} b.kiln`);
    expect(long).toBe('a'.repeat(63));
    for (const f of ['x y.kiln', '...kiln', '-a-.kiln', `${'z'.repeat(100)}.kiln`, '(1).kiln'])
      expect(projectNameProblem(projectNameFromFile(f)), f).toBeNull();
  });

  it('suggests a free name when the project exists', () => {
    expect(projectNameFromFile('digits.kiln', ['digits'])).toBe('digits-2');
    expect(projectNameFromFile('digits.kiln', ['digits', 'digits-2'])).toBe('digits-3');
    const full = 'd'.repeat(64);
    expect(freeProjectName(full, [full])).toBe(`${'d'.repeat(62)}-2`);
  });
});

describe('projectNameProblem', () => {
  it('follows the server rules', () => {
    expect(projectNameProblem('')).toBeNull();
    expect(projectNameProblem('ok_name-1.2')).toBeNull();
    expect(projectNameProblem('a b')).toMatch(/letters, digits/);
    expect(projectNameProblem('.x')).toMatch(/dot/);
    expect(projectNameProblem('x'.repeat(65))).toMatch(/64/);
    expect(projectNameProblem('x', ['x'])).toMatch(/exists/);
  });
});

describe('messages', () => {
  const api = (status: number, code: string, message: string) => new ApiError(status, code, message);

  it('says what a refused import means', () => {
    expect(importErrorMessage(api(409, 'AlreadyExists', "project 'digits' exists"), 'digits', 'digits.kiln')).toBe(
      'A project named “digits” exists. Choose another name.',
    );
    const damaged = importErrorMessage(api(400, 'InvalidArgument', 'not a Kiln export file: bad magic'), 'x', 'notes.txt');
    expect(damaged).toMatch(/^“notes.txt” is not a Kiln project archive, or it is damaged/);
    expect(damaged).toContain('bad magic');
    expect(importErrorMessage(api(413, 'ResourceExhausted', 'too big'), 'x', 'big.kiln')).toMatch(/larger than this server accepts/);
    expect(importErrorMessage(api(0, 'network', 'cannot reach'), 'x', 'f')).toMatch(/Could not reach the Kiln server/);
    expect(importErrorMessage(api(500, 'Internal', 'disk full'), 'x', 'f')).toBe('The import failed: disk full (500 Internal)');
    expect(importErrorMessage(new Error('odd'), 'x', 'f')).toBe('odd');
  });

  it('says what a failed export means', () => {
    expect(exportErrorMessage(api(404, 'NotFound', 'no project'), 'digits')).toBe('Could not export “digits”: it no longer exists.');
    expect(exportErrorMessage(api(403, 'PermissionDenied', 'read role needed'), 'digits')).toBe(
      'Could not export “digits”: read role needed (403 PermissionDenied)',
    );
  });

  it('names the archive and sums up an import', () => {
    expect(archiveFileName('digits')).toBe('digits.kiln');
    expect(importSummary({ name: 'd2', objects: 12, refs: 3 })).toBe('Imported “d2” with its history (12 objects).');
    expect(importSummary({ name: 'd2', objects: 1, refs: 2 })).toBe('Imported “d2” with its history (1 object).');
  });
});
