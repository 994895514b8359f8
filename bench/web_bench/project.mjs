// The web benchmark's generated project: one patch (docs/patches.md) that
// creates three Operation definitions (Source, Transform, Sink) with their
// Ports, and a Pipeline of `ops` instances on a grid, connected as a chain
// (instance i's input `a` ← instance i-1's `out`) plus a skip connection every
// `skipEvery` instances (input `b` ← the instance one grid row up). Guids are
// derived the way examples/build.py derives them, so the instances' inherited
// port guids are DeriveGuid(instance, definition port).
import { createHash } from 'node:crypto';

const NAMESPACE = 'kiln-core-meta'; // kNamespace in src/model/meta.cc

/** DeriveGuid of src/core/guid.cc (and web/src/model/guid.ts). */
export function deriveGuid(a, b) {
  const d = createHash('sha256').update(`${a}/${b}`).digest().subarray(0, 16);
  d[6] = (d[6] & 0x0f) | 0x50;
  d[8] = (d[8] & 0x3f) | 0x80;
  const h = d.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const ROOT = deriveGuid(NAMESPACE, 'root');
const meta = (name) => deriveGuid(NAMESPACE, 'meta/' + name);

const DEFINITIONS = {
  Source: { inputs: [], outputs: ['out'] },
  Transform: { inputs: ['a', 'b'], outputs: ['out'] },
  Sink: { inputs: ['a', 'b'], outputs: [] },
};

function code(name, { inputs, outputs }) {
  const args = inputs.map((p) => `${p}`).join(', ');
  const ret = outputs.length ? `        return {${outputs.map((o) => `"${o}": None`).join(', ')}}\n` : '        return {}\n';
  return `class ${name}:\n    def execute(self${args ? ', ' + args : ''}):\n${ret}`;
}

/**
 * Returns { patch, pipeline, connections, instances } for a project named
 * `name`. `cols` instances per grid row, `dx` x `dy` pixels apart.
 */
export function buildProject(name, { ops = 300, cols = 20, dx = 260, dy = 160, skipEvery = 10 } = {}) {
  const list = [];
  const create = (guid, parent, base, attrs = {}, extra = {}) => list.push({ op: 'create', guid, parent, base, attrs, ...extra });

  const library = deriveGuid(name, 'folder/operations');
  create(library, ROOT, meta('Folder'), { name: 'Operations' });
  const defs = {};
  for (const [opName, iface] of Object.entries(DEFINITIONS)) {
    const guid = deriveGuid(name, 'operation/' + opName);
    create(guid, library, meta('Operation'), { name: opName, code: code(opName, iface) });
    const ports = {};
    for (const [direction, names] of [['input', iface.inputs], ['output', iface.outputs]]) {
      for (const p of names) {
        const pg = deriveGuid(guid, `${direction}/${p}`);
        create(pg, guid, meta('Port'), { name: p, direction, dataType: 'any' });
        ports[`${direction}/${p}`] = pg;
      }
    }
    defs[opName] = { guid, ports };
  }

  const pipeline = deriveGuid(name, 'pipeline/Bench');
  create(pipeline, ROOT, meta('Pipeline'), { name: `Bench ${ops}` });
  const instances = [];
  for (let i = 0; i < ops; i++) {
    const kind = i === 0 ? 'Source' : i === ops - 1 ? 'Sink' : 'Transform';
    const def = defs[kind];
    const guid = deriveGuid(pipeline, `instance/op${i}`);
    create(guid, pipeline, def.guid, { name: `${kind} ${i}` }, {
      registry: { position: { x: (i % cols) * dx, y: Math.floor(i / cols) * dy } },
    });
    const ports = {};
    for (const [key, pg] of Object.entries(def.ports)) ports[key] = deriveGuid(guid, pg);
    instances.push({ guid, kind, ports });
  }
  let connections = 0;
  const connect = (src, dst, tag) => {
    create(deriveGuid(pipeline, `connection/${tag}`), pipeline, meta('Connection'), {}, {
      pointers: { src: instances[src].ports['output/out'], dst: instances[dst].ports[`input/${tag.split('.').pop()}`] },
    });
    connections++;
  };
  for (let i = 1; i < ops; i++) connect(i - 1, i, `op${i - 1}->op${i}.a`);
  for (let i = cols; i < ops; i += skipEvery) connect(i - cols, i, `op${i - cols}->op${i}.b`);
  return { patch: { message: `Web benchmark: ${ops} operations`, ops: list }, pipeline, connections, instances };
}
