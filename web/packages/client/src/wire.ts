// The wire format of a project: a tree as the server sends it (GET
// /api/v1/projects/{p}/tree) and the patches that change it (docs/patches.md).
// The editor's model (web/src/model) works on exactly these values, so they
// are defined here once and re-exported there. Plain JSON-shaped, readonly
// types: every model function returns new values and never mutates its
// inputs, so React can compare by reference and the optimistic/confirmed trees
// can share unchanged nodes.

/** Lowercase UUID text, e.g. "0b6f1c2e-7a4d-4c1e-9a7b-2f0e8d1c3b5a". */
export type Guid = string;

/** A commit digest (hex) as the server names commits. */
export type CommitId = string;

/** Attribute and registry values are arbitrary JSON values. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export interface TreeNode {
  readonly guid: Guid;
  /** null only for the root. */
  readonly parent: Guid | null;
  /** The type or prototype this node inherits from. */
  readonly base: Guid | null;
  /** The node's own attribute values (inherited ones are not repeated here). */
  readonly attrs: Readonly<Record<string, JsonValue>>;
  /** Own pointers; an explicit null overrides an inherited pointer. */
  readonly pointers: Readonly<Record<string, Guid | null>>;
  /** Editor-only data, e.g. position {x, y}, isMeta. */
  readonly registry: Readonly<Record<string, JsonValue>>;
  /** Ordered child guids. */
  readonly children: readonly Guid[];
}

export interface Tree {
  readonly root: Guid;
  readonly nodes: Readonly<Record<Guid, TreeNode>>;
}

// ---- Patch operations (docs/patches.md) ----

export interface CreateOp {
  readonly op: 'create';
  readonly guid: Guid;
  readonly parent: Guid;
  readonly base: Guid | null;
  readonly attrs?: Readonly<Record<string, JsonValue>>;
  readonly pointers?: Readonly<Record<string, Guid | null>>;
  readonly registry?: Readonly<Record<string, JsonValue>>;
  readonly index?: number;
}

export interface SetAttrOp {
  readonly op: 'set_attr';
  readonly node: Guid;
  readonly name: string;
  readonly value: JsonValue;
}

export interface DelAttrOp {
  readonly op: 'del_attr';
  readonly node: Guid;
  readonly name: string;
}

export interface SetPointerOp {
  readonly op: 'set_pointer';
  readonly node: Guid;
  readonly name: string;
  readonly target: Guid | null;
}

export interface DelPointerOp {
  readonly op: 'del_pointer';
  readonly node: Guid;
  readonly name: string;
}

export interface SetRegistryOp {
  readonly op: 'set_registry';
  readonly node: Guid;
  readonly name: string;
  readonly value: JsonValue;
}

export interface DelRegistryOp {
  readonly op: 'del_registry';
  readonly node: Guid;
  readonly name: string;
}

export interface MoveOp {
  readonly op: 'move';
  readonly node: Guid;
  readonly parent: Guid;
  /** Position among the new parent's children once the node is taken out. */
  readonly index?: number;
}

export interface CopyOp {
  readonly op: 'copy';
  readonly node: Guid;
  readonly parent: Guid;
  readonly guid: Guid;
  readonly index?: number;
}

export interface DeleteOp {
  readonly op: 'delete';
  readonly node: Guid;
}

export type Op =
  | CreateOp
  | SetAttrOp
  | DelAttrOp
  | SetPointerOp
  | DelPointerOp
  | SetRegistryOp
  | DelRegistryOp
  | MoveOp
  | CopyOp
  | DeleteOp;

export type OpName = Op['op'];

/** The patch document accepted by REST, WebSocket and `kiln patch`. */
export interface Patch {
  /** The commit the author saw; lets the server merge a stale edit per field. */
  readonly base?: CommitId;
  readonly message?: string;
  readonly ops: readonly Op[];
}
