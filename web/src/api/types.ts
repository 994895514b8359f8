// Shapes of the REST API's resources (under /api/v1).
//
// Provisional: docs/api.md is not written yet, so these carry the fields the
// editor needs and allow more. Where the server's shape is not settled (bare
// array vs {"projects": [...]}) the client accepts both; see client.ts.

import type { CommitId, Tree } from '../model';

export interface Health {
  readonly status: string;
  readonly version?: string;
  readonly [key: string]: unknown;
}

export interface Project {
  /** The name used in URLs (projects/{p}). */
  readonly name: string;
  readonly description?: string;
  readonly created?: string;
  readonly [key: string]: unknown;
}

export interface CreateProjectRequest {
  readonly name: string;
  readonly description?: string;
}

export interface Branch {
  readonly name: string;
  /** The branch head commit. */
  readonly head: CommitId;
  readonly [key: string]: unknown;
}

export interface CreateBranchRequest {
  readonly name: string;
  /** A branch name, tag or commit digest to start from. */
  readonly from: string;
}

export interface Commit {
  readonly id: CommitId;
  readonly parents: readonly CommitId[];
  readonly message: string;
  readonly author: string;
  /** ISO 8601. */
  readonly time: string;
  readonly [key: string]: unknown;
}

export interface CommitsQuery {
  /** Branch, tag or commit; the server's default branch when absent. */
  readonly ref?: string;
  readonly limit?: number;
}

/** GET projects/{p}/tree: the tree plus the commit it was read at. */
export interface TreeResponse extends Tree {
  readonly commit?: CommitId;
}

/** POST projects/{p}/branches/{b}/patches: the commit the patch became. */
export interface PatchResult {
  readonly commit: CommitId;
  readonly [key: string]: unknown;
}
