import { describe, expect, it } from 'vitest';
import type { KilnClient } from '@kiln/client';
import { applyOps, type Patch } from '../model';
import { copyArchitecture } from './copy';
import { architectureGraph, architectures } from './model';
import { libraryTree } from './testing';
import type { ArchitectureDocument } from './toDocument';

const doc: ArchitectureDocument = {
  main: 'LeNet',
  architectures: {
    LeNet: {
      nodes: [
        { id: 'x', type: 'Input', params: { shape: ['N', 1, 32, 32] } },
        { id: 'conv', type: 'Conv2d', params: { out_channels: 6, kernel_size: 5 } },
      ],
      edges: [['x', 'conv']],
    },
  },
};

/** A client that records calls and keeps one project's tree (with the library). */
function fakeClient() {
  const calls: string[] = [];
  let tree = libraryTree();
  const client = {
    request: async (method: string, path: string, opts: { body?: unknown }) => {
      calls.push(`${method} ${path} ${JSON.stringify(opts.body)}`);
      return { added: false };
    },
    getTree: async (project: string, ref?: string) => {
      calls.push(`tree ${project}@${ref}`);
      return { commit: 'c1', tree };
    },
    postPatch: async (project: string, branch: string, patch: Patch) => {
      calls.push(`patch ${project}/${branch} ${patch.message}`);
      tree = applyOps(tree, patch.ops);
      return { commit: 'c2', parent: 'c1' };
    },
  } as unknown as KilnClient;
  return { client, calls, tree: () => tree };
}

describe('copyArchitecture', () => {
  it('adds the library, then creates the architecture in the target in one patch', async () => {
    const { client, calls, tree } = fakeClient();
    const guid = await copyArchitecture(client, doc, 'mine');
    expect(calls).toEqual([
      'POST /projects/mine/libraries {"name":"torch","branch":"main"}',
      'tree mine@main',
      'patch mine/main Copy the architecture LeNet',
    ]);
    expect(architectures(tree()).map((a) => a.name)).toEqual(['LeNet']);
    expect(architectureGraph(tree(), guid).nodes.map((n) => n.name).sort()).toEqual(['conv', 'x']);
  });

  it('names the copy apart from an architecture of the same name', async () => {
    const { client, tree } = fakeClient();
    await copyArchitecture(client, doc, 'mine');
    await copyArchitecture(client, doc, 'mine');
    expect(architectures(tree()).map((a) => a.name).sort()).toEqual(['LeNet', 'LeNet2']);
  });
});
