// Shapes of the REST API's resources (under /api/v1), as docs/api.md writes
// them. Extra fields the server may add are allowed (index signatures) so a
// newer server does not break an older editor.

import type { CommitId, Guid, JsonValue, Op, Tree } from './wire';

export interface Health {
  readonly status: string;
  readonly version?: string;
  readonly [key: string]: unknown;
}

export interface Project {
  /** The name used in URLs (projects/{p}); [A-Za-z0-9_.-]. */
  readonly name: string;
  readonly description?: string;
  readonly created_ms?: number;
  readonly [key: string]: unknown;
}

export interface Ref {
  readonly name: string;
  readonly commit: CommitId;
  readonly [key: string]: unknown;
}
export type Branch = Ref;
export type Tag = Ref;

/** GET projects/{p}: the project with its branches and tags. */
export interface ProjectDetail extends Project {
  readonly branches: readonly Branch[];
  readonly tags: readonly Tag[];
}

export interface CreateProjectRequest {
  readonly name: string;
  readonly description?: string;
  /** A fork: the new project's main starts from this project's commit (ref: branch, tag or commit; default main). */
  readonly from?: { readonly project: string; readonly ref?: string };
}

export interface CreateBranchRequest {
  readonly name: string;
  /** A branch name, tag or commit digest to start from (default main). */
  readonly from?: string;
}

export interface CreateTagRequest {
  readonly name: string;
  readonly ref?: string;
}

export interface Commit {
  readonly commit: CommitId;
  readonly root: string;
  readonly parents: readonly CommitId[];
  readonly author: string;
  readonly message: string;
  readonly time_ms: number;
  readonly [key: string]: unknown;
}

export interface CommitsQuery {
  /** Branch, tag or commit; main when absent. */
  readonly ref?: string;
  readonly limit?: number;
  readonly firstParent?: boolean;
}

/** GET projects/{p}/tree: the tree plus the commit it was read at. */
export interface TreeResponse {
  readonly commit: CommitId;
  readonly tree: Tree;
}

/** GET projects/{p}/diff: the ops that turn `from` into `to`. */
export interface DiffResponse {
  readonly from: CommitId;
  readonly to: CommitId;
  readonly ops: readonly Op[];
}

/** POST projects/{p}/branches/{b}/patches: the commit the patch became. */
export interface PatchResult {
  readonly commit: CommitId;
  readonly parent?: CommitId;
  readonly [key: string]: unknown;
}

// ---- Executions (docs: the execution API contract) ----

export type ExecutionState = 'running' | 'succeeded' | 'failed' | 'cancelled' | (string & {});
export type JobState =
  | 'pending'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'cached'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | (string & {});

export interface Execution {
  readonly id: string;
  readonly project: string;
  readonly pipeline: Guid;
  readonly commit: CommitId;
  readonly ref: string;
  readonly branch?: string;
  readonly user?: string;
  readonly state: ExecutionState;
  readonly reason?: string;
  readonly created_ms: number;
  readonly finished_ms?: number;
  /** Attribute values this execution ran with instead of the pipeline's (docs/sweeps.md). */
  readonly overrides?: AttributeOverrides;
  /** The sweep this execution is a trial of; null or absent when none. */
  readonly sweep?: string | null;
  /** Its trial's index in that sweep. */
  readonly sweep_trial?: number | null;
  /** The backend asked for when it started (docs/compute.md); "" when the server's routing chose. */
  readonly backend?: string;
  readonly [key: string]: unknown;
}

/** {"<instance guid>": {"<attribute>": value}}: values keep the attribute's type. */
export type AttributeOverrides = Readonly<Record<Guid, Readonly<Record<string, unknown>>>>;

export interface OutputInfo {
  readonly digest: string;
  readonly serializer?: string;
  readonly size?: number;
}

export interface Job {
  readonly id: string;
  readonly node: Guid;
  readonly name: string;
  readonly state: JobState;
  readonly reason?: string;
  readonly queued_ms?: number;
  readonly started_ms?: number;
  readonly finished_ms?: number;
  readonly exit_code?: number | null;
  readonly outputs?: Readonly<Record<string, OutputInfo>>;
  /** The backend it was handed to; "" before it was submitted, or when it was cached. */
  readonly backend?: string;
  /** The machine (node) it ran on; "" when unknown. */
  readonly host?: string;
  /** The backend's own id of it: Slurm's "1234" or array task "1234_7"; "" for local jobs. */
  readonly backend_job?: string;
  readonly [key: string]: unknown;
}

export interface ExecutionDetail extends Execution {
  readonly jobs: readonly Job[];
}

export interface StartExecutionRequest {
  readonly pipeline: Guid;
  readonly ref: string;
  readonly force?: boolean;
  /** A backend's name (GET backends); absent: the server's routing chooses (docs/compute.md). */
  readonly backend?: string;
}

// ---- Compute backends (docs/compute.md) ----

export type BackendKind = 'local' | 'slurm' | 'remote' | (string & {});

/** A `kiln worker` connected to a remote backend (docs/compute.md, "Remote workers"). */
export interface RemoteWorker {
  readonly name: string;
  readonly slots: number;
  readonly gpus: number;
  readonly gpu_type: string;
  /** Jobs it holds now. */
  readonly jobs: number;
  readonly seen_s_ago: number;
}

/** GET backends: one place jobs can run, as the server's kiln.toml declares it. */
export interface Backend {
  readonly name: string;
  readonly kind: BackendKind;
  /** Jobs at once (local: workers; Slurm: max_jobs). */
  readonly slots: number;
  /** GPU slots (local); 0 when none or not known. */
  readonly gpus: number;
  /** The one [routing] default names (or the first declared). */
  readonly default: boolean;
  /** A remote backend's connected workers. */
  readonly workers?: readonly RemoteWorker[];
  readonly [key: string]: unknown;
}

// ---- Sweeps (docs/sweeps.md) ----

/** A numeric range: `steps` values in grid mode (geometric when `log`), uniform draws in random mode. */
export interface SweepRange {
  readonly min: number;
  readonly max: number;
  readonly steps?: number;
  readonly log?: boolean;
  readonly integer?: boolean;
}

/** One swept attribute of one instance: either `values` or `range`. */
export interface SweepParameter {
  readonly node: Guid;
  readonly attribute: string;
  readonly values?: readonly unknown[];
  readonly range?: SweepRange;
}

export type SweepMode = 'grid' | 'random';

export interface StartSweepRequest {
  readonly pipeline: Guid;
  readonly ref: string;
  readonly parameters: readonly SweepParameter[];
  readonly mode: SweepMode;
  /** Trials in random mode. */
  readonly samples?: number;
  readonly seed?: number;
  /** Where every trial runs, as for StartExecutionRequest. */
  readonly backend?: string;
}

export interface SweepTrial {
  readonly index: number;
  /** "<operation name>.<attribute>" → the value this trial ran with. */
  readonly values: Readonly<Record<string, unknown>>;
  readonly execution: string;
  readonly state: ExecutionState;
  readonly reason?: string;
  /** "<job name>.<metric>" → the last value logged. */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface Sweep {
  readonly id: string;
  readonly project: string;
  readonly pipeline: Guid;
  readonly pipeline_name?: string;
  readonly ref: string;
  readonly commit: CommitId;
  readonly user?: string;
  readonly created_ms: number;
  readonly state: ExecutionState;
  /** As asked, with the instance's name: `name` is "<node_name>.<attribute>", the trials' key. */
  readonly parameters: readonly (SweepParameter & { readonly node_name?: string; readonly name?: string })[];
  readonly mode: SweepMode;
  readonly trial_count?: number;
  readonly samples?: number;
  readonly seed?: number;
  readonly [key: string]: unknown;
}

export interface SweepDetail extends Sweep {
  readonly trials: readonly SweepTrial[];
}

export interface JobEvent {
  readonly seq: number;
  readonly time: number;
  readonly kind: 'log' | 'metric' | 'progress' | 'figure' | 'state' | (string & {});
  readonly name?: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface EventsQuery {
  readonly after?: number;
  readonly kind?: string;
  readonly limit?: number;
}

/** GET jobs/{id}/metrics: name → [[step, value], ...]. */
export type MetricSeries = Readonly<Record<string, readonly (readonly [number, number | string | null])[]>>;

// ---- Operation interfaces (POST projects/{p}/interface/parse|update) ----

/** An input or output port as the code declares it. */
export interface InterfacePort {
  readonly name: string;
  /** The annotation's text, or "any". */
  readonly type: string;
}

/** An __init__ parameter: a typed design-time attribute. */
export interface InterfaceAttribute {
  readonly name: string;
  readonly type: string;
  /** The default as JSON; null when there is none or it is not a literal. */
  readonly default: JsonValue;
  /** No default at all. */
  readonly required?: boolean;
  /** The default's source text when it is not a JSON literal (`nn.ReLU()`). */
  readonly expr?: string;
}

/** What python/kiln/interface.py derives from an operation's code. */
export interface OperationInterface {
  /** The operation class's name. */
  readonly name: string;
  readonly inputs: readonly InterfacePort[];
  readonly outputs: readonly InterfacePort[];
  readonly attributes: readonly InterfaceAttribute[];
  /** Parameters annotated with a resource type (`net: kiln.Architecture`): pointers, not attributes. */
  readonly references?: readonly { readonly name: string; readonly type: string }[];
}

/** Why code has no interface: 1-based line and column when known. */
export interface InterfaceProblem {
  readonly message: string;
  readonly line: number | null;
  readonly column: number | null;
}

/** parse/update either succeed or name the problem (the server's 422). */
export type InterfaceResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: InterfaceProblem };

// ---- Merge (POST projects/{p}/merge) ----

export interface MergeRequest {
  readonly from: string;
  readonly into: string;
  readonly message?: string;
}

/**
 * One field both sides changed differently since their common ancestor.
 * field: "exists", "parent", "attrs/<name>", "pointers/<name>",
 * "registry/<name>". A value is the string "<absent>" when the field is
 * unset on that side; "exists" uses "present", "deleted" and "modified".
 */
export interface MergeConflict {
  readonly node: string;
  readonly field: string;
  readonly base: JsonValue;
  readonly ours: JsonValue;
  readonly theirs: JsonValue;
}

export type MergeResult =
  | { readonly kind: 'merged'; readonly commit: string | null; readonly upToDate: boolean }
  | { readonly kind: 'conflicts'; readonly message: string; readonly conflicts: readonly MergeConflict[] };

// ---- Artifacts (GET/POST projects/{p}/artifacts) ----

/** Where an artifact came from (GET projects/{p}/artifacts, `origin`). */
export type ArtifactOrigin =
  | { readonly kind: 'upload'; readonly user?: string; readonly created_ms?: number }
  | {
      readonly kind: 'job';
      readonly pipeline?: Guid;
      readonly pipeline_name?: string;
      readonly execution?: string;
      readonly job?: string;
      readonly job_name?: string;
      readonly output?: string;
      readonly created_ms?: number;
    };

/**
 * An artifact of a project: stored bytes by digest, made by a job or
 * uploaded. `guid` is null for a job's output that no Output operation put
 * in the model; `value` is there for small JSON ones. Older servers send
 * `job`/`execution`/`uploaded_by` instead of `origin`.
 */
export interface Artifact {
  readonly guid: Guid | null;
  readonly name: string;
  readonly digest: string;
  readonly size?: number;
  readonly serializer?: string;
  readonly origin?: ArtifactOrigin;
  readonly value?: JsonValue;
  readonly job?: string;
  readonly execution?: string;
  readonly uploaded_by?: string;
  /** The storage backends holding its bytes (docs/storage.md, "Several backends"); empty: gone. */
  readonly stores?: readonly string[];
  readonly [key: string]: unknown;
}

// ---- Storage backends (docs/storage.md, "Several backends") ----

/** One of the server's storage backends; `default` is where new artifacts go unless a project chooses. */
export interface StorageBackend {
  readonly name: string;
  readonly kind: 'local' | 's3' | string;
  readonly default: boolean;
}

/** Where a project's new artifacts go; `chosen` false: the server's default backend. */
export interface ProjectStorage {
  readonly backend: string;
  readonly chosen: boolean;
}

/** An artifact after a copy or a move: where it lives now; `changed` false when it already was there. */
export interface StorageChange {
  readonly digest: string;
  readonly size: number;
  readonly stores: readonly string[];
  readonly changed: boolean;
}

export interface UploadResult {
  readonly guid: Guid;
  readonly digest: string;
  readonly size: number;
  readonly commit: CommitId;
}

// ---- Provenance (docs/provenance.md) ----

/** `up`: how the artifact was made (the default); `down`: what was made from it; `both`. */
export type LineageDirection = 'up' | 'down' | 'both';

export interface LineageQuery {
  /** Job levels to walk: 0–100000, the server's default 100. */
  readonly depth?: number;
  readonly direction?: LineageDirection;
}

/** Where an artifact of a lineage came from. */
export type LineageOrigin =
  | { readonly kind: 'job'; readonly job: string; readonly output: string }
  | {
      readonly kind: 'upload' | 'fork' | 'import';
      readonly user?: string;
      /** The uploaded file's name. */
      readonly source?: string;
      readonly created_ms?: number;
    }
  /** The project has the bytes but no record says how. */
  | { readonly kind: 'unknown' };

export interface LineageArtifact {
  readonly digest: string;
  readonly size: number;
  readonly serializer: string;
  /** Job levels away from the artifact asked about (0: itself). */
  readonly level: number;
  readonly origin: LineageOrigin;
  readonly [key: string]: unknown;
}

/** Where a job ran: `{"python", "torch", "kiln", "backend", "host"}`. */
export interface JobRuntime {
  readonly python?: string;
  readonly torch?: string;
  readonly kiln?: string;
  readonly backend?: string;
  readonly host?: string;
  readonly [key: string]: unknown;
}

/**
 * A cache hit's original job: named when it is in the project, otherwise
 * only said to be elsewhere (nothing of another project is revealed).
 */
export type CachedFrom = { readonly job: string; readonly execution: string } | { readonly other_project: true };

export interface LineageJob {
  readonly id: string;
  readonly execution: string;
  readonly pipeline: Guid;
  readonly commit: CommitId;
  readonly node: Guid;
  readonly name: string;
  readonly state: JobState;
  /** Index into Lineage.operations. */
  readonly operation: number;
  /** Input name → digest of the artifact that fed it. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Output name → digest of what it made. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly runtime: JobRuntime;
  readonly started_ms: number;
  readonly created_ms: number;
  readonly cached_from: CachedFrom | null;
  readonly level: number;
  readonly [key: string]: unknown;
}

/** The generated code of an architecture an operation referenced, as the job ran it. */
export interface ResourceSnapshot {
  readonly node: Guid;
  readonly subtree?: unknown;
  /** Path → file content. */
  readonly files: Readonly<Record<string, string>>;
  readonly entry_file: string;
  readonly entry_class: string;
  readonly [key: string]: unknown;
}

/** The operation as a job ran it (docs/provenance.md, "operation snapshot"). */
export interface OperationSnapshot {
  readonly node: Guid;
  readonly definition?: Guid | null;
  readonly name: string;
  readonly kind?: string;
  readonly code: string;
  readonly attributes: Readonly<Record<string, JsonValue>>;
  /** The ports' names; port_types gives their types by "input/x", "output/y". */
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  readonly port_types?: Readonly<Record<string, string>>;
  /** Pointer name → what it pointed at. */
  readonly resources?: Readonly<Record<string, ResourceSnapshot>>;
  readonly [key: string]: unknown;
}

/** GET projects/{p}/artifacts/{digest}/provenance: a walk of the project's provenance records. */
export interface Lineage {
  readonly project: string;
  readonly artifact: string;
  readonly direction: LineageDirection;
  readonly depth: number;
  /** The walk stopped at `depth` with more beyond it. */
  readonly truncated: boolean;
  readonly artifacts: readonly LineageArtifact[];
  readonly jobs: readonly LineageJob[];
  /** Each distinct snapshot once; jobs refer to them by index. */
  readonly operations: readonly OperationSnapshot[];
  readonly used: readonly { readonly job: string; readonly input: string; readonly artifact: string }[];
  readonly generated: readonly { readonly job: string; readonly output: string; readonly artifact: string }[];
}

/**
 * The lineage as W3C PROV-JSON (?format=prov): entities `artifact:<digest>`,
 * activities `job:<id>`, agents (users) and the relations between them, each
 * a map from an id to its attributes.
 */
export interface ProvDocument {
  readonly prefix?: Readonly<Record<string, string>>;
  readonly entity?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly activity?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly agent?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly used?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly wasGeneratedBy?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly wasAttributedTo?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly wasInformedBy?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly [key: string]: unknown;
}

/** POST projects/{p}/artifacts/{digest}/reify. */
export interface ReifyRequest {
  /** The new branch (409 when it exists). */
  readonly branch: string;
  /** Where the branch starts: a ref, default main. */
  readonly from?: string;
  /** The new pipeline's name. */
  readonly name?: string;
}

export interface ReifyResult {
  readonly branch: string;
  readonly commit: CommitId;
  /** The new pipeline's guid. */
  readonly pipeline: Guid;
  /** Instance guid in the new pipeline → the original job it stands for. */
  readonly jobs: Readonly<Record<Guid, string>>;
  /** What could not be restored as it was (a changed architecture, deleted data). */
  readonly notes: readonly string[];
}

/** GET projects/{p}/pipelines/{guid}/export: a zip of plain Python. */
export interface PipelineExportOptions {
  /** Branch, tag or commit; main when absent. */
  readonly ref?: string;
  /** `bundle`: input artifacts in the zip; `fetch`: main.py downloads them. The server picks when absent. */
  readonly inputs?: 'bundle' | 'fetch';
}

// ---- Project archives (GET projects/{p}/export, POST projects/import) ----

/** What POST projects/import made. */
export interface ProjectImportResult {
  readonly name: string;
  /** Objects of the archive stored. */
  readonly objects: number;
  /** Refs written: the project's own (`project`) and its branches and tags (docs/formats.md). */
  readonly refs: number;
}

// ---- Artifact previews (GET projects/{p}/artifacts/{digest}/preview) ----
// The JSON python/kiln/preview.py prints for a stored file; the server
// answers it as it is (422 with the module's message when the file cannot be
// read as its serializer). Images are PNG data URLs of at most 256 px a side.

/** min/max/mean/std over the finite values (null when none), NaNs counted. */
export interface PreviewStats {
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly std: number | null;
  readonly nan: number;
  /** How many ±Infinity values. */
  readonly inf?: number;
  /** Present when computed over a strided sample of this many values. */
  readonly sampled?: number;
}

export interface PreviewBandImage {
  /** "band 0", "slice 3"… */
  readonly label: string;
  /** data:image/png;base64,… */
  readonly image: string;
}

/** A 1-D array's plot: the values (bucketed with min/max envelope when long) and a histogram. */
export interface PreviewPlot {
  readonly line: {
    readonly x: readonly number[];
    readonly y: readonly (number | null)[];
    readonly min?: readonly (number | null)[];
    readonly max?: readonly (number | null)[];
    /** Values per point when bucketed. */
    readonly bucket?: number;
  };
  readonly hist: { readonly edges: readonly (number | null)[]; readonly counts: readonly number[] } | null;
}

export interface JsonPreview {
  readonly kind: 'json';
  readonly value: unknown;
  readonly truncated?: boolean;
}

export interface ArrayPreview {
  readonly kind: 'array';
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly stats: PreviewStats | null;
  /** A 0-d array's (or a tiny string array's) value. */
  readonly value?: unknown;
  /** 2-D arrays. */
  readonly image?: string;
  /** 3-D cubes and 4-D stacks: one image per band of the first item. */
  readonly images?: readonly PreviewBandImage[];
  /** "channels first", "channels last", "first of 10, channels first"… */
  readonly layout?: string;
  /** 1-D arrays. */
  readonly plot?: PreviewPlot;
  readonly note?: string;
}

export interface PreviewTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly params: number;
}

export interface StateDictPreview {
  readonly kind: 'state_dict';
  /** The first 500 tensors. */
  readonly tensors: readonly PreviewTensor[];
  /** All tensors. */
  readonly count: number;
  readonly total_params: number;
  /** A whole module's class, e.g. torch.nn.modules.container.Sequential. */
  readonly module?: string;
  /** A checkpoint's plain values by dotted name (epoch, loss, optimizer.lr…), at most 50. */
  readonly values?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface FitsHdu {
  readonly name: string;
  /** PrimaryHDU, ImageHDU, BinTableHDU… */
  readonly type: string;
  /** The first 60 cards (COMMENT/HISTORY joined by newlines). */
  readonly header: Readonly<Record<string, string | number | boolean | null>>;
  readonly shape?: readonly number[];
  readonly stats?: PreviewStats;
  readonly image?: string;
  readonly images?: readonly PreviewBandImage[];
  readonly layout?: string;
  readonly columns?: readonly { readonly name: string; readonly format: string; readonly unit: string | null }[];
  readonly rows?: readonly (readonly unknown[])[];
  readonly count?: number;
}

export interface FitsPreview {
  readonly kind: 'fits';
  /** The first 10 HDUs. */
  readonly hdus: readonly FitsHdu[];
  /** A collection of FITS files (a dict of them): how many; the HDUs are its first. */
  readonly files?: number;
  readonly note?: string;
}

export interface TablePreview {
  readonly kind: 'table';
  readonly columns: readonly string[];
  /** The first 20 rows. */
  readonly rows: readonly (readonly unknown[])[];
  /** All rows; null when the file is too large to count. */
  readonly count: number | null;
  readonly dtype?: string;
}

export interface TextPreview {
  readonly kind: 'text';
  /** The first 4 KiB. */
  readonly text: string;
  readonly size: number;
  readonly truncated: boolean;
  readonly note?: string;
}

export interface BinaryPreview {
  readonly kind: 'binary';
  readonly size: number;
  /** The first 16 bytes in hex. */
  readonly magic: string;
  /** png, gzip, zip, hdf5… when the magic says. */
  readonly format?: string;
  /** Why it is not shown otherwise (a pickle of a class, too large…). */
  readonly note?: string;
}

export type ArtifactPreview =
  | JsonPreview
  | ArrayPreview
  | StateDictPreview
  | FitsPreview
  | TablePreview
  | TextPreview
  | BinaryPreview;
