// The lineage and reify answers of the server (docs/provenance.md), as the
// editor holds them once api.ts has checked them. Read-only values; every
// field the spec marks optional or nullable is optional or null here too.
import type { JsonValue } from '../model';

export type Direction = 'up' | 'down' | 'both';
export const DIRECTIONS: readonly Direction[] = ['up', 'down', 'both'];

/** How an artifact came to the project. */
export type ArtifactOriginRecord =
  | { readonly kind: 'job'; readonly job: string; readonly output: string }
  | {
      readonly kind: 'upload' | 'fork' | 'import';
      readonly user: string | null;
      readonly source: string | null;
      readonly createdMs: number | null;
    }
  | { readonly kind: 'unknown' };

export interface LineageArtifact {
  readonly digest: string;
  readonly size: number | null;
  readonly serializer: string | null;
  readonly level: number;
  readonly origin: ArtifactOriginRecord;
}

/** Where a cache hit's bytes came from: a job of this project, or another project (nothing more is said). */
export type CachedFrom = { readonly job: string; readonly execution: string | null } | { readonly otherProject: true } | null;

export type Runtime = Readonly<Record<string, string>>;

export interface LineageJob {
  readonly id: string;
  readonly execution: string;
  readonly pipeline: string | null;
  readonly commit: string | null;
  /** The operation instance's guid in its pipeline. */
  readonly node: string;
  readonly name: string;
  readonly state: string;
  /** Index into Lineage.operations. */
  readonly operation: number;
  readonly inputs: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, string>>;
  readonly runtime: Runtime;
  readonly startedMs: number | null;
  readonly createdMs: number | null;
  readonly cachedFrom: CachedFrom;
  readonly level: number;
}

/** A referenced resource as the job ran with it (an architecture's generated code). */
export interface SnapshotResource {
  readonly node: string | null;
  readonly files: Readonly<Record<string, string>>;
  readonly entryFile: string | null;
  readonly entryClass: string | null;
}

/** The operation as it was when the job ran. */
export interface OperationSnapshot {
  readonly node: string | null;
  readonly definition: string | null;
  readonly name: string;
  readonly kind: string | null;
  readonly code: string;
  readonly attributes: Readonly<Record<string, JsonValue>>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly portTypes: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, SnapshotResource>>;
}

export interface UsedEdge {
  readonly job: string;
  readonly input: string;
  readonly artifact: string;
}

export interface GeneratedEdge {
  readonly job: string;
  readonly output: string;
  readonly artifact: string;
}

export interface Lineage {
  readonly project: string;
  readonly artifact: string;
  readonly direction: Direction;
  readonly depth: number;
  readonly truncated: boolean;
  readonly artifacts: readonly LineageArtifact[];
  readonly jobs: readonly LineageJob[];
  readonly operations: readonly OperationSnapshot[];
  readonly used: readonly UsedEdge[];
  readonly generated: readonly GeneratedEdge[];
}

export interface LineageQuery {
  readonly depth?: number;
  readonly direction?: Direction;
}

export interface ReifyRequest {
  readonly branch: string;
  readonly from?: string;
  readonly name?: string;
}

export interface ReifyResult {
  readonly branch: string;
  readonly commit: string;
  readonly pipeline: string;
  /** Instance guid → the original job's id. */
  readonly jobs: Readonly<Record<string, string>>;
  readonly notes: readonly string[];
}
