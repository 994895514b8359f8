// The PyTorch library's node types as the server describes them
// (GET /api/v1/libraries/torch, docs/libraries.md): the catalog's layers in
// the layer format of docs/nn.md, then the built-in types (Input, Output,
// Block, …). Pure types and lookups; fetching lives in api.ts.
import { deriveGuid, type Guid, type JsonValue } from '../model';

/** A parameter type (docs/nn.md, "The layer catalog"). */
export type ParamType =
  | 'int'
  | 'float'
  | 'bool'
  | 'str'
  | 'any'
  | { readonly enum: readonly string[] }
  | { readonly tuple: ParamType }
  | { readonly optional: ParamType }
  | { readonly union: readonly ParamType[] };

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly required: boolean;
  /** Absent when there is none; null is None. */
  readonly default?: JsonValue;
  readonly doc?: string;
}

export interface PortSpecJson {
  readonly name: string;
  readonly optional?: boolean;
  readonly many?: boolean;
}

export interface LayerType {
  readonly name: string;
  readonly category: string;
  readonly doc: string;
  readonly params: readonly ParamSpec[];
  readonly inputs: readonly PortSpecJson[];
  readonly outputs: readonly PortSpecJson[];
}

export interface Library {
  readonly name: string;
  readonly title?: string;
  readonly namespace: string;
  readonly torch?: string;
  readonly types: readonly LayerType[];
}

/** The guid namespace of the library's meta types (docs/libraries.md). */
export const TORCH_NAMESPACE = 'kiln-library-torch';

/** The meta type node of a node type: DeriveGuid("kiln-library-torch", "meta/" + type). */
export function metaGuid(type: string, namespace = TORCH_NAMESPACE): Guid {
  return deriveGuid(namespace, `meta/${type}`);
}

/** The folder META/torch: present when the project uses the library. */
export function libraryFolderGuid(namespace = TORCH_NAMESPACE): Guid {
  return deriveGuid(namespace, 'folder');
}

/** Category order of the palette: what one builds first comes first. */
export const CATEGORY_ORDER = [
  'structure',
  'convolution',
  'pooling',
  'linear',
  'activation',
  'normalization',
  'dropout',
  'merge',
  'shape',
  'recurrent',
  'transformer',
  'embedding',
  'loss',
  'other',
] as const;

/**
 * Parameters the analysis infers from the incoming shape when left out
 * (docs/nn.md, "Automatic dimensions"): not "required" in the editor.
 */
export const INFERABLE_PARAMS = new Set([
  'in_channels',
  'in_features',
  'in1_features',
  'in2_features',
  'num_features',
  'num_channels',
  'normalized_shape',
  'input_size',
  'embed_dim',
  'd_model',
]);

export function typeByName(lib: Library | null, name: string): LayerType | undefined {
  return lib?.types.find((t) => t.name === name);
}

/** Types grouped by category, in CATEGORY_ORDER then alphabetical for unknown ones. */
export function groupByCategory(types: readonly LayerType[]): { category: string; types: LayerType[] }[] {
  const groups = new Map<string, LayerType[]>();
  for (const t of types) {
    const list = groups.get(t.category);
    if (list) list.push(t);
    else groups.set(t.category, [t]);
  }
  const rank = (c: string) => {
    const i = (CATEGORY_ORDER as readonly string[]).indexOf(c);
    return i < 0 ? CATEGORY_ORDER.length : i;
  };
  return [...groups]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([category, list]) => ({ category, types: list }));
}

/** Types matching a search: name first, then doc and category. */
export function searchTypes(types: readonly LayerType[], query: string): LayerType[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...types];
  const byName = types.filter((t) => t.name.toLowerCase().includes(q));
  const rest = types.filter(
    (t) => !byName.includes(t) && (t.doc.toLowerCase().includes(q) || t.category.toLowerCase().includes(q)),
  );
  return [...byName, ...rest];
}
