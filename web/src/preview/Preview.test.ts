// Every kind of preview, as python/kiln/preview.py printed it for a real
// file (testdata/, made from small arrays, a torch module, a FITS file, a
// CSV…), renders to the markup a person would look for. Server-side
// rendering: effects (the uPlot line) do not run here.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ArtifactPreview } from '@kiln/client';
import { PreviewBody } from './Preview';
import array1d from './testdata/array_1d.json';
import array2d from './testdata/array_2d.json';
import arrayCube from './testdata/array_cube.json';
import binary from './testdata/binary.json';
import fits from './testdata/fits.json';
import json from './testdata/json.json';
import stateDict from './testdata/state_dict.json';
import table from './testdata/table.json';
import text from './testdata/text.json';

const html = (p: unknown) => renderToStaticMarkup(createElement(PreviewBody, { preview: p as ArtifactPreview, name: 'out' }));
const count = (s: string, sub: string) => s.split(sub).length - 1;

describe('PreviewBody renders what the Python module sends', () => {
  it('json: the value pretty-printed, marked as cut', () => {
    const h = html(json);
    expect(h).toContain('data-kind="json"');
    expect(h).toContain('&quot;sigma_mad&quot;: 0.02');
    expect(h).toContain('&quot;bins&quot;: [0, 1, 2,');
    expect(h).toContain('JSON object of 3 keys (cut)');
  });
  it('1-D array: statistics, a histogram with one bar per bin, the line chart host', () => {
    const h = html(array1d);
    expect(h).toContain('int32 array 1500');
    expect(h).toMatch(/<dt>max<\/dt><dd class="mono">36<\/dd>/);
    expect(count(h, '<rect')).toBe(32);
    expect(h).toContain('uplot-host');
  });
  it('2-D array: one inline PNG', () => {
    const h = html(array2d);
    expect(count(h, 'src="data:image/png;base64,')).toBe(1);
    expect(h).toContain('float32 array 8 × 12');
  });
  it('cube: one image per band with its label and the layout', () => {
    const h = html(arrayCube);
    expect(count(h, 'src="data:image/png;base64,')).toBe(3);
    expect(h).toContain('band 2');
    expect(h).toContain('channels last');
  });
  it('state dict: the tensors and the parameter count', () => {
    const h = html(stateDict);
    expect(h).toContain('0.weight');
    expect(h).toContain('4 × 5 × 3 × 3');
    expect(h).toContain('Sequential · 4 tensors · 194 parameters');
    const ckpt = html({ ...stateDict, module: undefined, values: { epoch: 7, 'optimizer.lr': 0.01 } });
    expect(ckpt).toContain('<td>epoch</td><td class="num mono">7</td>');
    expect(ckpt).toContain('<td>optimizer.lr</td><td class="num mono">0.01</td>');
  });
  it('fits: each HDU with its header cards, image and table rows', () => {
    const h = html(fits);
    expect(h).toContain('PRIMARY');
    expect(h).toContain('CAT');
    expect(h).toMatch(/<td class="mono">FILTER<\/td><td class="mono preview-card">g<\/td>/);
    expect(count(h, 'src="data:image/png;base64,')).toBe(1);
    expect(h).toContain('The first 20 of 25 rows.');
  });
  it('table: the columns and first rows, numbers right-aligned', () => {
    const h = html(table);
    expect(h).toContain('<th>id</th><th>z</th>');
    expect(h).toContain('<td class="num mono">0.19</td>');
    expect(h).toContain('The first 20 of 30 rows.');
  });
  it('text and binary', () => {
    expect(html(text)).toContain('hello\nworld');
    const b = html(binary);
    expect(b).toContain('gzip · 44 B');
    expect(b).toContain('1f 8b 08 00');
  });
});
