// The provenance routes of the Kiln server (docs/provenance.md): an
// artifact's lineage (JSON, or the PROV-JSON download URL) and reify. Kept
// out of src/api so the client package stays as it is: calls go through
// KilnClient.request. The answers are checked here, field by field, so the
// views get the typed values of types.ts or one ApiError that names the
// field the server got wrong.
import { API_PREFIX, ApiError, type KilnClient } from '@kiln/client';
import type { JsonValue } from '../model';
import type {
  ArtifactOriginRecord,
  CachedFrom,
  Direction,
  GeneratedEdge,
  Lineage,
  LineageArtifact,
  LineageJob,
  LineageQuery,
  OperationSnapshot,
  ReifyRequest,
  ReifyResult,
  SnapshotResource,
  UsedEdge,
} from './types';

/** The depth the server allows (docs/provenance.md: 0–100000). */
export const MAX_DEPTH = 100_000;
export const DEFAULT_DEPTH = 100;

/** A depth typed by the user: a whole number in 0..MAX_DEPTH, else null. */
export function parseDepth(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n <= MAX_DEPTH ? n : null;
}

const seg = encodeURIComponent;

function lineagePath(project: string, digest: string, query: LineageQuery, format?: 'prov'): string {
  const q = new URLSearchParams();
  if (query.depth !== undefined) q.set('depth', String(query.depth));
  if (query.direction !== undefined) q.set('direction', query.direction);
  if (format) q.set('format', format);
  const qs = q.size > 0 ? `?${q}` : '';
  return `/projects/${seg(project)}/artifacts/${seg(digest)}/provenance${qs}`;
}

/** GET …/artifacts/{digest}/provenance: the lineage, checked. */
export async function getLineage(
  client: KilnClient,
  project: string,
  digest: string,
  query: LineageQuery = {},
  signal?: AbortSignal,
): Promise<Lineage> {
  return parseLineage(await client.request<unknown>('GET', lineagePath(project, digest, query), { signal }));
}

/**
 * The URL of the PROV-JSON of a lineage, for a download link. KilnClient
 * keeps its origin private; its artifact URL starts with it.
 */
export function provJsonUrl(client: KilnClient, project: string, digest: string, query: LineageQuery = {}): string {
  const marker = `${API_PREFIX}/artifacts/`;
  const sample = client.artifactUrl('x');
  const origin = sample.slice(0, sample.indexOf(marker));
  return `${origin}${API_PREFIX}${lineagePath(project, digest, query, 'prov')}`;
}

/** POST …/artifacts/{digest}/reify: a branch with one commit holding a pipeline that makes the artifact again. */
export async function reify(client: KilnClient, project: string, digest: string, req: ReifyRequest): Promise<ReifyResult> {
  const body = await client.request<unknown>('POST', `/projects/${seg(project)}/artifacts/${seg(digest)}/reify`, { body: req });
  return parseReify(body);
}

// ---- checking the answers ----

function bad(what: string): never {
  throw new ApiError(200, 'bad_response', `the server sent an invalid answer: ${what}`);
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string): Obj {
  if (!isObj(v)) bad(`${where} is not an object`);
  return v;
}

function arr(v: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(v)) bad(`${where} is not a list`);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') bad(`${where} is not a string`);
  return v;
}

function optStr(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function int(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(`${where} is not an integer`);
  return v;
}

function optNum(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function stringMap(v: unknown, where: string): Readonly<Record<string, string>> {
  if (v === undefined || v === null) return {};
  const o = obj(v, where);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = str(x, `${where}.${k}`);
  return out;
}

function stringList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  return arr(v, where).map((x, i) => str(x, `${where}[${i}]`));
}

function direction(v: unknown): Direction {
  if (v === 'up' || v === 'down' || v === 'both') return v;
  if (v === undefined) return 'up';
  return bad(`direction ${JSON.stringify(v)} is not up, down or both`);
}

function origin(v: unknown, where: string): ArtifactOriginRecord {
  const o = obj(v, where);
  const kind = o['kind'];
  if (kind === 'job') return { kind, job: str(o['job'], `${where}.job`), output: str(o['output'], `${where}.output`) };
  if (kind === 'upload' || kind === 'fork' || kind === 'import')
    return { kind, user: optStr(o['user']), source: optStr(o['source']), createdMs: optNum(o['created_ms']) };
  if (kind === 'unknown') return { kind };
  return bad(`${where}.kind ${JSON.stringify(kind)} is not job, upload, fork, import or unknown`);
}

function artifact(v: unknown, i: number): LineageArtifact {
  const w = `artifacts[${i}]`;
  const o = obj(v, w);
  return {
    digest: str(o['digest'], `${w}.digest`),
    size: optNum(o['size']),
    serializer: optStr(o['serializer']),
    level: int(o['level'], `${w}.level`),
    origin: origin(o['origin'] ?? { kind: 'unknown' }, `${w}.origin`),
  };
}

function cachedFrom(v: unknown, where: string): CachedFrom {
  if (v === null || v === undefined) return null;
  const o = obj(v, where);
  if (o['other_project'] === true) return { otherProject: true };
  return { job: str(o['job'], `${where}.job`), execution: optStr(o['execution']) };
}

function job(v: unknown, i: number, operations: number): LineageJob {
  const w = `jobs[${i}]`;
  const o = obj(v, w);
  const operation = int(o['operation'], `${w}.operation`);
  if (operation < 0 || operation >= operations) bad(`${w}.operation ${operation} is not an index of operations`);
  const runtime: Record<string, string> = {};
  if (isObj(o['runtime'])) for (const [k, x] of Object.entries(o['runtime'])) if (x !== null && x !== undefined) runtime[k] = String(x);
  return {
    id: str(o['id'], `${w}.id`),
    execution: str(o['execution'], `${w}.execution`),
    pipeline: optStr(o['pipeline']),
    commit: optStr(o['commit']),
    node: str(o['node'], `${w}.node`),
    name: str(o['name'], `${w}.name`),
    state: optStr(o['state']) ?? 'unknown',
    operation,
    inputs: stringMap(o['inputs'], `${w}.inputs`),
    outputs: stringMap(o['outputs'], `${w}.outputs`),
    runtime,
    startedMs: optNum(o['started_ms']),
    createdMs: optNum(o['created_ms']),
    cachedFrom: cachedFrom(o['cached_from'], `${w}.cached_from`),
    level: int(o['level'], `${w}.level`),
  };
}

function resource(v: unknown, where: string): SnapshotResource {
  const o = obj(v, where);
  return {
    node: optStr(o['node']),
    files: stringMap(o['files'], `${where}.files`),
    entryFile: optStr(o['entry_file']),
    entryClass: optStr(o['entry_class']),
  };
}

/** An operation snapshot; exported for the job details (and tests). */
export function parseSnapshot(v: unknown, where = 'operation'): OperationSnapshot {
  const o = obj(v, where);
  const attributes = o['attributes'] === undefined || o['attributes'] === null ? {} : obj(o['attributes'], `${where}.attributes`);
  const resources: Record<string, SnapshotResource> = {};
  if (o['resources'] !== undefined && o['resources'] !== null)
    for (const [k, r] of Object.entries(obj(o['resources'], `${where}.resources`))) resources[k] = resource(r, `${where}.resources.${k}`);
  return {
    node: optStr(o['node']),
    definition: optStr(o['definition']),
    name: typeof o['name'] === 'string' ? o['name'] : '',
    kind: optStr(o['kind']),
    code: typeof o['code'] === 'string' ? o['code'] : '',
    attributes: attributes as Readonly<Record<string, JsonValue>>,
    inputs: stringList(o['inputs'], `${where}.inputs`),
    outputs: stringList(o['outputs'], `${where}.outputs`),
    portTypes: stringMap(o['port_types'], `${where}.port_types`),
    resources,
  };
}

function used(v: unknown, i: number): UsedEdge {
  const o = obj(v, `used[${i}]`);
  return { job: str(o['job'], `used[${i}].job`), input: str(o['input'], `used[${i}].input`), artifact: str(o['artifact'], `used[${i}].artifact`) };
}

function generated(v: unknown, i: number): GeneratedEdge {
  const o = obj(v, `generated[${i}]`);
  return {
    job: str(o['job'], `generated[${i}].job`),
    output: str(o['output'], `generated[${i}].output`),
    artifact: str(o['artifact'], `generated[${i}].artifact`),
  };
}

/**
 * The lineage answer, checked: every job's operation index is in range and
 * every edge names a job and an artifact of the answer (an edge to nothing
 * would be drawn to nowhere).
 */
export function parseLineage(body: unknown): Lineage {
  const o = obj(body, 'the answer');
  const operations = arr(o['operations'] ?? [], 'operations').map((x, i) => parseSnapshot(x, `operations[${i}]`));
  const artifacts = arr(o['artifacts'], 'artifacts').map(artifact);
  const jobs = arr(o['jobs'], 'jobs').map((x, i) => job(x, i, operations.length));
  const usedEdges = arr(o['used'] ?? [], 'used').map(used);
  const generatedEdges = arr(o['generated'] ?? [], 'generated').map(generated);
  const digests = new Set(artifacts.map((a) => a.digest));
  const ids = new Set(jobs.map((j) => j.id));
  for (const [name, edges] of [
    ['used', usedEdges],
    ['generated', generatedEdges],
  ] as const)
    edges.forEach((e, i) => {
      if (!ids.has(e.job)) bad(`${name}[${i}].job ${e.job} is not in jobs`);
      if (!digests.has(e.artifact)) bad(`${name}[${i}].artifact ${e.artifact} is not in artifacts`);
    });
  const root = str(o['artifact'], 'artifact');
  return {
    project: typeof o['project'] === 'string' ? o['project'] : '',
    artifact: root,
    direction: direction(o['direction']),
    depth: typeof o['depth'] === 'number' ? o['depth'] : DEFAULT_DEPTH,
    truncated: o['truncated'] === true,
    artifacts,
    jobs,
    operations,
    used: usedEdges,
    generated: generatedEdges,
  };
}

export function parseReify(body: unknown): ReifyResult {
  const o = obj(body, 'the reify answer');
  return {
    branch: str(o['branch'], 'branch'),
    commit: str(o['commit'], 'commit'),
    pipeline: str(o['pipeline'], 'pipeline'),
    jobs: stringMap(o['jobs'], 'jobs'),
    notes: stringList(o['notes'], 'notes'),
  };
}
