import { describe, expect, it } from 'vitest';
import { decodePaletteItem, encodePaletteItem } from './ArchPalette';
import { paramSpecs } from './ArchInspector';
import { catalogFixture } from './testing';
import type { LayerNode } from './model';

const layer = (type: string, params: LayerNode['params'] = {}): LayerNode => ({
  id: 'n',
  name: 'n',
  type,
  position: null,
  inputs: [],
  outputs: [],
  params,
});
const typeOf = (name: string) => catalogFixture.types.find((t) => t.name === name);

describe('paramSpecs', () => {
  it('lists the catalog parameters, then attributes the type does not have', () => {
    expect(paramSpecs(layer('ReLU', { inplace: true, colour: 'red' }), typeOf('ReLU')).map((s) => [s.name, s.type])).toEqual([
      ['inplace', 'bool'],
      ['colour', 'any'],
    ]);
  });

  it('gives Input its shape and Block its count, never the block pointer as a field', () => {
    expect(paramSpecs(layer('Input'), typeOf('Input')).map((s) => s.name)).toEqual(['shape']);
    const block = { ...typeOf('Block')!, params: [{ name: 'block', type: 'str' as const, required: true }] };
    expect(paramSpecs(layer('Block', { count: 2 }), block).map((s) => s.name)).toEqual(['count']);
  });
});

describe('palette drops', () => {
  it('round-trip and refuse what is not a palette item', () => {
    expect(decodePaletteItem(encodePaletteItem({ kind: 'layer', type: 'Conv2d' }))).toEqual({ kind: 'layer', type: 'Conv2d' });
    expect(decodePaletteItem(encodePaletteItem({ kind: 'block', guid: 'g' }))).toEqual({ kind: 'block', guid: 'g' });
    expect(decodePaletteItem('{"kind":"definition","guid":"x"}')).toBeNull();
    expect(decodePaletteItem('not json')).toBeNull();
  });
});
