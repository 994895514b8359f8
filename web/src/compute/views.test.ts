// The compute views rendered to HTML (react-dom/server, no DOM needed): what
// the user sees for a given server and model. Their logic is tested in
// backends.test.ts, resources.test.ts and placement.test.ts.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Backend, Job } from '@kiln/client';
import { applyOps, type Op } from '../model';
import { ids, sampleTree } from '../model/testing';
import { JobWhere } from '../executions/JobWhere';
import { ResourcesSection } from '../pipeline/ResourcesSection';
import { BackendSelect } from './BackendSelect';

const local: Backend = { name: 'local', kind: 'local', slots: 2, gpus: 0, default: true };
const cluster: Backend = { name: 'cluster', kind: 'slurm', slots: 1000, gpus: 0, default: false };

const select = (backends: readonly Backend[] | null, value = '') =>
  renderToStaticMarkup(createElement(BackendSelect, { backends, value, onChange: () => undefined }));

describe('BackendSelect', () => {
  it('is not there with one backend, or when the server does not say', () => {
    expect(select([local])).toBe('');
    expect(select([])).toBe('');
    expect(select(null)).toBe('');
  });

  it('offers the default and each backend, the choice selected', () => {
    const html = select([local, cluster], 'cluster');
    expect(html).toContain('aria-label="Where to run"');
    expect(html).toContain('>Default (local)</option>');
    expect(html).toContain('<option value="cluster" title="Every job on cluster (Slurm), unless its operation names another backend" selected="">cluster</option>');
  });
});

const noEdit = () => null;
/** The <input> tag of one resource field. */
const input = (html: string, attribute: string) => new RegExp(`<input id="resource-${attribute}"[^>]*>`).exec(html)?.[0] ?? '';
const resources = (ops: Op[], backends: readonly Backend[] | null) =>
  renderToStaticMarkup(
    createElement(ResourcesSection, { tree: applyOps(sampleTree(), ops), node: ids.train, edit: noEdit, owner: 'Train', backends }),
  );

describe('ResourcesSection', () => {
  it('is closed with nothing set, saying so, with every field empty', () => {
    const html = resources([], [local, cluster]);
    // Not `.field.attr`: that is the attribute list (the collaboration browser test reads it).
    expect(html).not.toMatch(/class="field attr/);
    expect(html).toMatch(/^<details class="inspector-section resources" data-testid="resources">/);
    expect(html).toContain('backend defaults');
    for (const label of ['CPUs', 'Memory (MiB)', 'GPUs', 'GPU type', 'Time limit', 'Partition', 'Backend']) expect(html).toContain(`>${label}<`);
    expect(html).toContain('<option value="" selected="">As the run says</option>');
  });

  it('shows set values, the definition’s as placeholders, and memory for people', () => {
    const html = resources(
      [
        { op: 'set_attr', node: ids.Train, name: 'job_gpus', value: 1 },
        { op: 'set_attr', node: ids.train, name: 'job_memory_mb', value: 16384 },
        { op: 'set_attr', node: ids.train, name: 'job_timeout_s', value: 5400 },
        { op: 'set_attr', node: ids.train, name: 'job_backend', value: 'cluster' },
      ],
      [local, cluster],
    );
    expect(html).toContain('16 GiB · 1 GPU · 1h 30m · on cluster');
    expect(input(html, 'job_memory_mb')).toContain('value="16384"');
    expect(html).toContain('= 16 GiB');
    expect(input(html, 'job_timeout_s')).toContain('value="1h 30m"');
    expect(input(html, 'job_gpus')).toContain('placeholder="1"');
    expect(input(html, 'job_gpus')).toContain('value=""');
    expect(html).toContain('from the definition: 1');
    expect(html).toContain('<option value="cluster" selected="">cluster (Slurm)</option>');
  });

  it('opens on a problem and says what it is', () => {
    const html = resources([{ op: 'set_attr', node: ids.train, name: 'job_backend', value: 'gpu-farm' }], [local, cluster]);
    expect(html).toMatch(/^<details class="inspector-section resources" open=""/);
    expect(html).toContain('<option value="gpu-farm" selected="">unknown backend gpu-farm</option>');
    expect(html).toContain('This server has no backend &#x27;gpu-farm&#x27; (it has local, cluster): the run will fail.');
  });

  it('types the backend when the server does not list its backends', () => {
    const html = resources([{ op: 'set_attr', node: ids.train, name: 'job_backend', value: 'cluster' }], null);
    expect(input(html, 'job_backend')).toContain('value="cluster"');
    expect(html).not.toContain('<select');
  });
});

describe('JobWhere', () => {
  const where = (job: Partial<Job>) =>
    renderToStaticMarkup(createElement(JobWhere, { job: { id: 'j', node: 'n', name: 'Train', state: 'failed', ...job }, backends: [local, cluster] }));

  it('says where a failed cluster job ran, its Slurm id selectable with sacct in the tooltip', () => {
    const html = where({ backend: 'cluster', host: 'gpu07', backend_job: '1234_7' });
    expect(html.replace(/<[^>]+>/g, '')).toBe('ran on cluster, node gpu07, Slurm job 1234_7');
    expect(html).toContain('title="What Slurm knows of it: sacct -j 1234_7');
  });

  it('is absent when nothing is known', () => {
    expect(where({ state: 'cached', backend: '' })).toBe('');
  });
});
