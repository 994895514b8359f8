// Input and Output operations: how data enters and leaves a pipeline.
//
// On the server (src/pipeline/plan.h) an operation definition with attribute
// "kind": "input" runs no code: its one output is the artifact whose digest
// is the instance's attribute "artifact", loaded with its "serializer". One
// with "kind": "output" runs no code either: what flows into it is stored as
// an Artifact of the project named by the instance's name.
//
// A project gets the two definitions the first time someone adds an Input or
// an Output from the palette, in the same patch as the instance. Their guids
// are derived from the root, so two people doing it at once name the same
// node: the later create is refused (adding again then finds the definition)
// instead of the project getting two "Input" definitions.
import { deriveGuid, effectiveAttr, isA, newGuid, type Guid, type JsonValue, type Op, type Tree } from '../model';
import { metaByName, nameOf, uniqueName } from './model';

export type DataKind = 'input' | 'output';
export type OperationKind = 'operation' | DataKind;

/** What the palette says about each, and the one port each definition has. */
export const DATA_OPERATIONS: Readonly<
  Record<DataKind, { readonly name: string; readonly description: string; readonly port: 'input' | 'output' }>
> = {
  input: { name: 'Input', description: 'Data from an artifact of the project: an upload or an output of a run', port: 'output' },
  output: { name: 'Output', description: 'Stores what flows in as an artifact of the project, under its name', port: 'input' },
};

/** The port name of both definitions: what the server's test builder and examples use. */
export const DATA_PORT = 'data';

export function operationKind(tree: Tree, guid: Guid): OperationKind {
  const k = effectiveAttr(tree, guid, 'kind');
  return k === 'input' || k === 'output' ? k : 'operation';
}

/** The guid a project's Input (Output) definition gets when the editor creates it. */
export function dataDefinitionGuid(tree: Tree, kind: DataKind): Guid {
  return deriveGuid(tree.root, `kiln-data/${kind}`);
}

/**
 * The project's Input (Output) definition, if it has one: the editor's own,
 * else any operation definition outside a pipeline with that kind (a
 * project built by a script may have its own).
 */
export function findDataDefinition(tree: Tree, kind: DataKind): Guid | undefined {
  const own = dataDefinitionGuid(tree, kind);
  if (tree.nodes[own]) return own;
  for (const n of Object.values(tree.nodes)) {
    if (n.attrs['kind'] !== kind || !isA(tree, n.guid, 'Operation')) continue;
    if (n.parent !== null && isA(tree, n.parent, 'Pipeline')) continue; // an instance that set it itself
    return n.guid;
  }
  return undefined;
}

/** The artifact an Input is bound to: what the inspector, the palette and a drop know of it. */
export interface ArtifactBinding {
  readonly digest: string;
  readonly name: string;
  /** How the job loads it; uploads are "raw" (the bytes). */
  readonly serializer?: string | undefined;
}

/**
 * Ops that add an Input (bound to `artifact` when given) or an Output to the
 * pipeline at `position`, creating the definition first when the project has
 * none. Null when the project lacks the core meta types.
 */
export function addDataOperationOps(
  tree: Tree,
  pipeline: Guid,
  kind: DataKind,
  position: { x: number; y: number },
  opts: { artifact?: ArtifactBinding; guid?: Guid } = {},
): { ops: Op[]; guid: Guid } | null {
  const ops: Op[] = [];
  let definition = findDataDefinition(tree, kind);
  if (!definition) {
    const opMeta = metaByName(tree, 'Operation');
    const portMeta = metaByName(tree, 'Port');
    if (!opMeta || !portMeta) return null;
    definition = dataDefinitionGuid(tree, kind);
    const spec = DATA_OPERATIONS[kind];
    const folder = (tree.nodes[tree.root]?.children ?? []).find((c) => nameOf(tree, c) === 'Operations') ?? tree.root;
    ops.push({
      op: 'create',
      guid: definition,
      parent: folder,
      base: opMeta,
      attrs: { name: spec.name, kind, description: spec.description },
    });
    ops.push({
      op: 'create',
      guid: deriveGuid(definition, `${spec.port}/${DATA_PORT}`),
      parent: definition,
      base: portMeta,
      attrs: { name: DATA_PORT, direction: spec.port, dataType: 'any' },
    });
  }
  const guid = opts.guid ?? newGuid();
  const base = opts.artifact ? artifactStem(opts.artifact.name) : DATA_OPERATIONS[kind].name;
  const attrs: Record<string, JsonValue> = { name: uniqueName(tree, pipeline, base) };
  if (opts.artifact) Object.assign(attrs, bindingAttrs(opts.artifact));
  ops.push({
    op: 'create',
    guid,
    parent: pipeline,
    base: definition,
    attrs,
    registry: { position: { x: Math.round(position.x), y: Math.round(position.y) } },
  });
  return { ops, guid };
}

function bindingAttrs(a: ArtifactBinding): Record<string, JsonValue> {
  return { artifact: a.digest, serializer: a.serializer || 'raw' };
}

/** "table.csv" → "table": an Input is named after what it reads. */
export function artifactStem(name: string): string {
  const stem = name.replace(/\.[A-Za-z0-9]{1,8}$/, '').trim();
  return stem || name || 'Input';
}

/**
 * Ops that bind an existing Input to an artifact. An Input still called by
 * its default name ("Input", "Input 2") is renamed after the artifact, so
 * the canvas says what it reads; a name someone chose stays.
 */
export function bindInputOps(tree: Tree, node: Guid, artifact: ArtifactBinding): Op[] {
  const ops: Op[] = Object.entries(bindingAttrs(artifact)).map(([name, value]) => ({ op: 'set_attr', node, name, value }));
  const current = nameOf(tree, node);
  const parent = tree.nodes[node]?.parent;
  if (parent && /^Input( \d+)?$/.test(current)) {
    const name = uniqueName(tree, parent, artifactStem(artifact.name));
    if (name !== current) ops.push({ op: 'set_attr', node, name: 'name', value: name });
  }
  return ops;
}

/** The digest an Input is bound to, or null. */
export function inputArtifact(tree: Tree, node: Guid): string | null {
  const a = effectiveAttr(tree, node, 'artifact');
  return typeof a === 'string' && /^[0-9a-f]{64}$/.test(a) ? a : null;
}

/**
 * What a drag onto the canvas carries, as the one string the canvas passes
 * on: a definition's guid (the palette's operations), "kiln:input" or
 * "kiln:output", or "kiln:artifact:" and an artifact as JSON (the palette's
 * artifacts, a row of the artifacts list) to add an Input bound to it.
 */
export type DropItem =
  | { readonly kind: 'definition'; readonly guid: Guid }
  | { readonly kind: 'data'; readonly data: DataKind }
  | { readonly kind: 'artifact'; readonly artifact: ArtifactBinding };

/** The drag type the canvas accepts (PipelineEditor's). */
export const DROP_TYPE = 'application/x-kiln-operation';

const ARTIFACT_PREFIX = 'kiln:artifact:';

export function encodeDropItem(item: DropItem): string {
  if (item.kind === 'definition') return item.guid;
  if (item.kind === 'data') return `kiln:${item.data}`;
  const a = item.artifact;
  return ARTIFACT_PREFIX + JSON.stringify({ digest: a.digest, name: a.name, serializer: a.serializer || 'raw' });
}

export function decodeDropItem(text: string): DropItem | null {
  if (text === 'kiln:input' || text === 'kiln:output') return { kind: 'data', data: text === 'kiln:input' ? 'input' : 'output' };
  if (!text.startsWith(ARTIFACT_PREFIX)) return text && !text.startsWith('kiln:') ? { kind: 'definition', guid: text } : null;
  try {
    const v = JSON.parse(text.slice(ARTIFACT_PREFIX.length)) as Record<string, unknown>;
    const digest = v['digest'];
    if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) return null;
    const name = typeof v['name'] === 'string' && v['name'] ? v['name'] : digest.slice(0, 12);
    const serializer = typeof v['serializer'] === 'string' && v['serializer'] ? v['serializer'] : 'raw';
    return { kind: 'artifact', artifact: { digest, name, serializer } };
  } catch {
    return null;
  }
}

/** An artifact an Input can read, as the palette and the inspector list it. */
export interface InputChoice extends ArtifactBinding {
  /** Kind, and where it came from when the server says. */
  readonly note: string;
}

/**
 * What an Input can read: the project's Artifact nodes (in the tree, so
 * known at once, even offline) and what the server lists besides (job
 * outputs no Output stored), one entry per digest, by name.
 */
export function inputChoices(
  nodes: readonly { readonly name: string; readonly digest: string; readonly serializer?: string | undefined }[],
  listed: readonly {
    readonly name: string;
    readonly digest: string;
    readonly serializer?: string | undefined;
    readonly origin?: { readonly kind: string; readonly job_name?: string; readonly pipeline_name?: string } | undefined;
  }[],
): InputChoice[] {
  const out = new Map<string, InputChoice>();
  for (const a of listed) {
    if (out.has(a.digest)) continue;
    const serializer = a.serializer || 'raw';
    const o = a.origin;
    const from = o?.kind === 'upload' ? 'uploaded' : o?.kind === 'job' && o.job_name ? `from ${o.job_name}` : '';
    out.set(a.digest, { digest: a.digest, name: a.name, serializer, note: from ? `${serializer} · ${from}` : serializer });
  }
  for (const a of nodes) {
    if (out.has(a.digest)) continue;
    const serializer = a.serializer || 'raw';
    out.set(a.digest, { digest: a.digest, name: a.name, serializer, note: serializer });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || a.digest.localeCompare(b.digest));
}
