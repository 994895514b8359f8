// Copying an architecture into another project (the zoo's Inception network
// into yours): the architecture and the blocks it uses become a document
// (toDocument), the target gets the PyTorch library if it lacks it, and the
// document becomes new nodes there in one patch (documentOps) — the same
// path as importing PyTorch code, so a copy is an independent architecture.
import type { KilnClient } from '@kiln/client';
import type { Guid } from '../model';
import { addLibrary } from './api';
import { documentOps } from './fromDocument';
import type { ArchitectureDocument } from './toDocument';

export async function copyArchitecture(
  client: KilnClient,
  doc: ArchitectureDocument,
  target: string,
  branch = 'main',
): Promise<Guid> {
  await addLibrary(client, target, branch);
  const { tree } = await client.getTree(target, branch);
  const { ops, main } = documentOps(tree, doc);
  await client.postPatch(target, branch, { message: `Copy the architecture ${doc.main}`, ops });
  return main;
}
