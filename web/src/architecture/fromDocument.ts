// An architecture document (docs/nn.md; what POST /api/v1/nn/import answers)
// → the ops that create it in the project tree: one Architecture per entry
// (named uniquely in the project), its layers (instances of their meta types,
// params as attributes), Blocks pointing at their architectures with their
// ports, and the connections, laid out in layers. The inverse of toDocument.
import { deriveGuid, newGuid, type Guid, type JsonValue, type Op, type Tree } from '../model';
import { metaByName } from '../pipeline/model';
import { autoLayout } from '../graph/editorKit';
import { metaGuid } from './catalog';
import { architectures, identifier } from './model';
import type { ArchitectureDocument, DocArchitecture } from './toDocument';

interface PortRef {
  readonly guid: Guid;
  readonly name: string;
}

/** The Port children of a type's meta node, by direction, in order. */
function metaPorts(tree: Tree, type: string, direction: 'input' | 'output'): PortRef[] {
  const meta = metaGuid(type);
  return (tree.nodes[meta]?.children ?? [])
    .filter((c) => tree.nodes[c]?.attrs['direction'] === direction)
    .map((c) => ({ guid: c, name: String(tree.nodes[c]!.attrs['name'] ?? '') }));
}

/** Net, or Net2, Net3… when taken (as model.architectureName). */
function uniqueName(taken: ReadonlySet<string>, stem: string): string {
  if (!taken.has(stem)) return stem;
  const base = stem.replace(/\d+$/, '') || stem;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

function interfaceNames(arch: DocArchitecture | undefined): { inputs: string[]; outputs: string[] } {
  const nameOf = (n: { id: string; name?: string }) => n.name ?? n.id;
  return {
    inputs: (arch?.nodes ?? []).filter((n) => n.type === 'Input').map(nameOf),
    outputs: (arch?.nodes ?? []).filter((n) => n.type === 'Output').map(nameOf),
  };
}

/**
 * The ops, and the guid of the main architecture. Throws an Error naming the
 * problem (an unknown node type, an edge to a node that is not there).
 */
export function documentOps(tree: Tree, doc: ArchitectureDocument, fresh: () => Guid = () => newGuid()): { ops: Op[]; main: Guid } {
  const archMeta = metaGuid('Architecture');
  if (!tree.nodes[archMeta]) throw new Error('this project does not use the PyTorch library yet');
  const portMeta = metaByName(tree, 'Port');
  const connection = metaByName(tree, 'Connection');
  if (!portMeta || !connection) throw new Error('this project has no Port or Connection meta type');
  if (!doc.architectures[doc.main]) throw new Error(`the document has no architecture “${doc.main}” (its main)`);

  const ops: Op[] = [];
  const archGuid = new Map<string, Guid>();
  // Names: unique among the project's architectures and the ones created here.
  const taken = new Set(architectures(tree).map((a) => a.name));
  for (const key of Object.keys(doc.architectures)) {
    const guid = fresh();
    archGuid.set(key, guid);
    const name = uniqueName(taken, identifier(key));
    taken.add(name);
    ops.push({ op: 'create', guid, parent: tree.root, base: archMeta, attrs: { name } });
  }

  for (const [key, arch] of Object.entries(doc.architectures)) {
    const parent = archGuid.get(key)!;
    const layer = new Map<string, { guid: Guid; inputs: PortRef[]; outputs: PortRef[] }>();
    const taken = new Set<string>();
    for (const n of arch.nodes) {
      if (!tree.nodes[metaGuid(n.type)]) throw new Error(`node “${n.name ?? n.id}”: this project has no meta type “${n.type}”`);
      const guid = fresh();
      let name = identifier(n.name ?? n.id);
      for (let i = 2; taken.has(name); i++) name = `${identifier(n.name ?? n.id)}_${i}`;
      taken.add(name);
      const attrs: Record<string, JsonValue> = { name };
      const pointers: Record<string, Guid> = {};
      for (const [k, v] of Object.entries(n.params ?? {})) {
        if (n.type === 'Block' && k === 'block') {
          const target = typeof v === 'string' ? archGuid.get(v) : undefined;
          if (!target) throw new Error(`block “${name}”: the document has no architecture “${String(v)}”`);
          pointers['block'] = target;
        } else attrs[k] = v;
      }
      ops.push({ op: 'create', guid, parent, base: metaGuid(n.type), attrs, ...(n.type === 'Block' ? { pointers } : {}) });
      let inputs: PortRef[];
      let outputs: PortRef[];
      if (n.type === 'Block') {
        const names = interfaceNames(doc.architectures[String(n.params?.['block'])]);
        const mk = (direction: 'input' | 'output', pname: string): PortRef => {
          const p = fresh();
          ops.push({ op: 'create', guid: p, parent: guid, base: portMeta, attrs: { name: pname, direction, dataType: 'tensor' } });
          return { guid: p, name: pname };
        };
        inputs = names.inputs.map((p) => mk('input', p));
        outputs = names.outputs.map((p) => mk('output', p));
      } else {
        // Inherited ports: DeriveGuid(layer, meta port), docs/patches.md.
        const derive = (p: PortRef): PortRef => ({ guid: deriveGuid(guid, p.guid), name: p.name });
        inputs = metaPorts(tree, n.type, 'input').map(derive);
        outputs = metaPorts(tree, n.type, 'output').map(derive);
      }
      layer.set(n.id, { guid, inputs, outputs });
    }
    const end = (ref: string, side: 'from' | 'to'): Guid => {
      const dot = ref.indexOf('.');
      const id = dot < 0 ? ref : ref.slice(0, dot);
      const port = dot < 0 ? null : ref.slice(dot + 1);
      const l = layer.get(id);
      if (!l) throw new Error(`edge end “${ref}”: no node “${id}” in ${key}`);
      const list = side === 'from' ? l.outputs : l.inputs;
      const p = port === null ? list[0] : list.find((x) => x.name === port);
      if (!p) throw new Error(`edge end “${ref}”: ${id} has no ${side === 'from' ? 'output' : 'input'} ${port ?? ''}`.trim());
      return p.guid;
    };
    const layoutEdges: { source: string; target: string }[] = [];
    for (const [from, to] of arch.edges) {
      ops.push({ op: 'create', guid: fresh(), parent, base: connection, pointers: { src: end(from, 'from'), dst: end(to, 'to') } });
      layoutEdges.push({ source: layer.get(from.split('.')[0]!)!.guid, target: layer.get(to.split('.')[0]!)!.guid });
    }
    // Laid out as the editor draws architectures: top to bottom.
    const positions = autoLayout({ nodes: [...layer.values()].map((l) => ({ id: l.guid, inputs: l.inputs, outputs: l.outputs })), edges: layoutEdges }, true);
    for (const [g, p] of positions)
      ops.push({ op: 'set_registry', node: g, name: 'position', value: { x: Math.round(p.x), y: Math.round(p.y) } });
  }
  return { ops, main: archGuid.get(doc.main)! };
}
