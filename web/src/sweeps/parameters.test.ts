import { describe, expect, it } from 'vitest';
import { applyOps } from '../model';
import { ids, sampleTree } from '../model/testing';
import { gridValues, parseList, parseRange, parseValue, planSweep, sweepableAttributes, trialCount, type ParameterChoice } from './parameters';

const RANGE = { min: '', max: '', steps: '', log: false, integer: false };
const epochs = { node: 'n1', nodeName: 'Train', attribute: 'epochs', type: 'int' as const, value: 10 };
const lr = { node: 'n1', nodeName: 'Train', attribute: 'lr', type: 'float' as const, value: 0.01 };

describe('sweep parameters', () => {
  it('lists the typed attributes of the pipeline\'s operations, own values included', () => {
    const t = applyOps(sampleTree(), [{ op: 'set_attr', node: ids.train, name: 'epochs', value: 5 }]);
    const attrs = sweepableAttributes(t, ids.pipe);
    expect(attrs.map((a) => [a.nodeName, a.attribute, a.type, a.value])).toContainEqual(['Train', 'epochs', 'int', 5]);
    expect(attrs.every((a) => a.attribute !== 'name' && a.attribute !== 'code')).toBe(true);
  });

  it('leaves out the job resources (the server refuses them as overrides)', () => {
    const t = applyOps(sampleTree(), [
      { op: 'set_attr', node: ids.train, name: 'job_cpus', value: 4 },
      { op: 'set_attr', node: ids.train, name: 'job_partition', value: 'gpu' },
    ]);
    expect(sweepableAttributes(t, ids.pipe).filter((a) => a.nodeName === 'Train').map((a) => a.attribute)).toEqual(['epochs']);
  });

  it('parses values in the attribute\'s type', () => {
    expect(parseValue('int', ' 4 ')).toEqual({ ok: true, value: 4 });
    expect(parseValue('int', '4.5')).toMatchObject({ ok: false, error: '“4.5” is not a whole number' });
    expect(parseValue('float', '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(parseValue('float', 'abc').ok).toBe(false);
    expect(parseValue('bool', 'yes')).toEqual({ ok: true, value: true });
    expect(parseValue('bool', 'maybe').ok).toBe(false);
    expect(parseValue('string', '"adam"')).toEqual({ ok: true, value: 'adam' });
  });

  it('parses lists and says what is wrong with one', () => {
    expect(parseList('float', '0.001, 0.003, 0.01')).toEqual({ ok: true, value: [0.001, 0.003, 0.01] });
    expect(parseList('int', '')).toEqual({ ok: false, error: 'give at least one value' });
    expect(parseList('int', '1,,2')).toEqual({ ok: false, error: 'an empty value between commas' });
    expect(parseList('int', '1, 2, 1')).toEqual({ ok: false, error: '1 is listed twice' });
    expect(parseList('int', '1, x')).toMatchObject({ ok: false, error: '“x” is not a whole number' });
  });

  it('parses ranges: order, log above zero, steps in grid mode only, ints stay integer', () => {
    expect(parseRange('float', { ...RANGE, min: '0.001', max: '0.1', steps: '3', log: true }, 'grid')).toEqual({
      ok: true,
      value: { min: 0.001, max: 0.1, steps: 3, log: true },
    });
    expect(parseRange('int', { ...RANGE, min: '1', max: '5' }, 'random')).toEqual({ ok: true, value: { min: 1, max: 5, integer: true } });
    expect(parseRange('float', { ...RANGE, min: '2', max: '1', steps: '3' }, 'grid')).toMatchObject({ error: 'the minimum must be below the maximum' });
    expect(parseRange('float', { ...RANGE, min: '0', max: '1', steps: '3', log: true }, 'grid')).toMatchObject({ error: 'a logarithmic range needs a minimum above 0' });
    expect(parseRange('float', { ...RANGE, min: '0', max: '1', steps: '1' }, 'grid')).toMatchObject({ error: 'a grid range needs 2 or more steps' });
    expect(parseRange('string', { ...RANGE, min: '0', max: '1' }, 'random').ok).toBe(false);
    expect(parseRange('float', { ...RANGE, min: '', max: '1' }, 'random')).toMatchObject({ error: 'the minimum is not a number' });
  });

  it('spreads grid ranges evenly or geometrically; integer rounding merges repeats', () => {
    expect(gridValues({ min: 0, max: 1, steps: 3 })).toEqual([0, 0.5, 1]);
    expect(gridValues({ min: 0.001, max: 0.1, steps: 3, log: true })).toEqual([0.001, 0.01, 0.1]);
    expect(gridValues({ min: 1, max: 2, steps: 4, integer: true })).toEqual([1, 2]);
  });

  it('counts grid trials as the product of the value counts', () => {
    expect(trialCount([3, 2, 4])).toBe(24);
    expect(trialCount([])).toBe(0);
  });

  it('plans a grid sweep: the request of docs/sweeps.md and its trial count', () => {
    const choices: ParameterChoice[] = [
      { attribute: lr, how: 'list', list: '0.001, 0.003, 0.01', range: RANGE },
      { attribute: epochs, how: 'range', list: '', range: { ...RANGE, min: '2', max: '10', steps: '3' } },
    ];
    const r = planSweep('P', 'main', choices, 'grid', '', '');
    expect(r).toEqual({
      ok: true,
      plan: {
        trials: 9,
        request: {
          pipeline: 'P',
          ref: 'main',
          mode: 'grid',
          parameters: [
            { node: 'n1', attribute: 'lr', values: [0.001, 0.003, 0.01] },
            { node: 'n1', attribute: 'epochs', range: { min: 2, max: 10, steps: 3, integer: true } },
          ],
        },
      },
    });
  });

  it('plans a random sweep with samples and seed; reports every problem by row', () => {
    const ok = planSweep('P', 'b', [{ attribute: lr, how: 'range', list: '', range: { ...RANGE, min: '0.001', max: '0.1', log: true } }], 'random', '8', '7');
    expect(ok.ok && ok.plan).toMatchObject({ trials: 8, request: { mode: 'random', samples: 8, seed: 7 } });
    const bad = planSweep('P', 'b', [{ attribute: epochs, how: 'list', list: '1, x', range: RANGE }], 'random', '0', 'q');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.get('Train.epochs')).toBe('Train.epochs: “x” is not a whole number');
    expect(bad.errors.get('samples')).toMatch(/whole number of 1 or more/);
    expect(bad.errors.get('seed')).toMatch(/seed/);
    const none = planSweep('P', 'b', [], 'grid', '', '');
    expect(!none.ok && none.errors.get('')).toBe('Pick at least one attribute to vary.');
  });

  it('refuses grids over 1,000 trials', () => {
    const big = (name: string): ParameterChoice => ({
      attribute: { ...epochs, attribute: name },
      how: 'range',
      list: '',
      range: { ...RANGE, min: '1', max: '11', steps: '11' },
    });
    const r = planSweep('P', 'main', [big('a'), big('b'), big('c')], 'grid', '', '');
    expect(!r.ok && r.errors.get('')).toMatch(/makes 1331 trials; at most 1000/);
  });
});
