// The inspector of a layer: its name, its parameters as forms typed from the
// catalog (number fields, checkboxes, selects for enums, comma lists for
// tuples, "None" where optional, smart parsing for unions), the value the
// analysis inferred greyed in an empty field (type to override it), its
// shapes, parameters and error; a Block's architecture ("Open block"),
// count and expand toggle.
import { useEffect, useState } from 'react';
import { decideSave, jsonEqual, type Guid, type JsonValue, type Op, type Tree } from '../model';
import '../operations/collide.css';
import { nameOf } from '../pipeline/model';
import { formatCount, formatShape, type NodeAnalysis } from './analysis';
import { INFERABLE_PARAMS, type LayerType, type ParamSpec } from './catalog';
import type { LayerNode } from './model';
import { setParamOps, unsetParamOps } from './model';
import { allowsNone, controlOf, describeType, enumValues, formatValue, parseValue } from './params';

type EditFn = ((ops: readonly Op[], label: string) => string | null) | null;

/** Parameters every node of a built-in type has even when the catalog does not list them. */
const BUILTIN_PARAMS: Readonly<Record<string, readonly ParamSpec[]>> = {
  Input: [{ name: 'shape', type: { tuple: { union: ['int', 'str'] } }, required: true, doc: 'Dimensions: ints and names (N, H, …)' }],
  Block: [{ name: 'count', type: 'int', required: false, default: 1, doc: 'How many times the block runs, output i feeding input i' }],
};

/** The parameter specs of a node: the catalog's, the built-in ones, then any other attribute it sets. */
export function paramSpecs(node: LayerNode, type: LayerType | undefined): ParamSpec[] {
  // A Block's `block` is its pointer (the section above), not a text field.
  const specs: ParamSpec[] = (type?.params ?? []).filter((p) => !(node.type === 'Block' && p.name === 'block'));
  for (const b of BUILTIN_PARAMS[node.type] ?? []) if (!specs.some((s) => s.name === b.name)) specs.push(b);
  for (const name of Object.keys(node.params))
    if (!specs.some((s) => s.name === name)) specs.push({ name, type: 'any', required: false, doc: 'Not a parameter of this type' });
  return specs;
}

export function ArchInspector({
  tree,
  node,
  type,
  analysis,
  error,
  edit,
  expanded,
  onToggleExpand,
  blockHref,
}: {
  tree: Tree;
  node: LayerNode;
  type: LayerType | undefined;
  analysis: NodeAnalysis | undefined;
  error: string | undefined;
  edit: EditFn;
  expanded: boolean;
  onToggleExpand: () => void;
  blockHref: (arch: Guid) => string;
}) {
  const specs = paramSpecs(node, type);
  const set = (name: string, value: JsonValue) => edit?.(setParamOps(node.id, name, value), `Set ${name} of ${node.name}`);
  const unset = (name: string) => edit?.(unsetParamOps(node.id, name), `Reset ${name} of ${node.name}`);
  const outs = Object.entries(analysis?.outputs ?? {});
  const ins = Object.entries(analysis?.inputs ?? {});
  return (
    <aside className="inspector floating arch-inspector" aria-label="Inspector" data-testid="inspector">
      <div className="panel-title">
        {node.type}
        {type && type.category !== node.type.toLowerCase() && <span className="muted"> · {type.category}</span>}
      </div>
      <div className="inspector-section">
        <NameField name={node.name} onRename={edit ? (v) => edit([{ op: 'set_attr', node: node.id, name: 'name', value: v }], `Rename ${node.name}`) : null} />
        {type?.doc && <p className="muted small arch-type-doc">{type.doc}</p>}
        {error && (
          <p className="field-error small" role="alert" data-testid="inspector-error">
            {error}
          </p>
        )}
      </div>
      {node.type === 'Block' && (
        <div className="inspector-section" data-testid="block-section">
          <div className="section-label">Block</div>
          {node.block && tree.nodes[node.block] ? (
            <p>
              Runs <strong>{nameOf(tree, node.block)}</strong>{' '}
              <a href={blockHref(node.block)} data-testid="open-block">
                Open block
              </a>{' '}
              ·{' '}
              <button type="button" className="link small" onClick={onToggleExpand} data-testid="expand-block">
                {expanded ? 'Collapse' : 'Expand'}
              </button>
            </p>
          ) : (
            <p className="field-error small">Its architecture no longer exists.</p>
          )}
        </div>
      )}
      <div className="inspector-section">
        <div className="section-label">Parameters</div>
        {specs.length === 0 && <p className="muted small">This layer has no parameters.</p>}
        {specs.map((s) => (
          <ParamField
            key={s.name}
            spec={s}
            value={Object.hasOwn(node.params, s.name) ? node.params[s.name] : undefined}
            inferred={analysis?.inferred?.[s.name]}
            onSet={edit ? (v) => set(s.name, v) : null}
            onUnset={edit ? () => unset(s.name) : null}
          />
        ))}
      </div>
      <div className="inspector-section">
        <div className="section-label">Shapes</div>
        {ins.length + outs.length === 0 ? (
          <p className="muted small">{error ? 'Not known: fix the error first.' : 'Not analysed yet.'}</p>
        ) : (
          <dl className="facts arch-shapes">
            {ins.map(([p, v]) => (
              <FactRow key={`in-${p}`} label={`in ${p}`} value={formatShape(v)} />
            ))}
            {outs.map(([p, v]) => (
              <FactRow key={`out-${p}`} label={`out ${p}`} value={formatShape(v)} testId={`shape-out-${p}`} />
            ))}
            {analysis?.parameters !== undefined && <FactRow label="parameters" value={formatCount(analysis.parameters)} />}
            {analysis?.macs !== undefined && <FactRow label="mult-adds" value={formatCount(analysis.macs)} />}
          </dl>
        )}
      </div>
    </aside>
  );
}

function FactRow({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono" data-testid={testId}>
        {value}
      </dd>
    </>
  );
}

function NameField({ name, onRename }: { name: string; onRename: ((name: string) => void) | null }) {
  const [text, setText] = useState(name);
  useEffect(() => setText(name), [name]);
  const ok = /^[A-Za-z_][A-Za-z0-9_]*$/.test(text.trim());
  const commit = () => {
    const t = text.trim();
    if (t && t !== name && onRename) onRename(t);
    else setText(name);
  };
  return (
    <label className="field">
      <span>Name</span>
      <input
        value={text}
        readOnly={!onRename}
        aria-label="Layer name"
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
      />
      {!ok && <small className="muted">Not a Python identifier: the generated code will use a cleaned-up name.</small>}
    </label>
  );
}

/** One typed parameter: set = set_attr, empty or "reset" = del_attr (the default, or the inferred value). */
export function ParamField({
  spec,
  value,
  inferred,
  onSet,
  onUnset,
}: {
  spec: ParamSpec;
  value: JsonValue | undefined;
  inferred: JsonValue | undefined;
  onSet: ((v: JsonValue) => void) | null;
  onUnset: (() => void) | null;
}) {
  const control = controlOf(spec.type);
  const own = value !== undefined;
  const [text, setText] = useState(formatValue(value));
  const [focused, setFocused] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The value the user's typing started from: when the stored value moves
  // under the typing (a collaborator), the field asks instead of silently
  // dropping the typing or overwriting theirs (as pipelines do, model/collide).
  const [base, setBase] = useState<JsonValue | undefined>(value);
  const [asking, setAsking] = useState<JsonValue | undefined | null>(null);
  const typedSomething = text.trim() !== formatValue(base).trim();
  const collision = focused || asking !== null ? typedSomething && !jsonEqual(value ?? null, base ?? null) : false;
  // A change from elsewhere shows at once unless the user has typed something else.
  useEffect(() => {
    if (!typedSomething) {
      setText(formatValue(value));
      setBase(value);
      setError(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const adopt = (v: JsonValue | undefined) => {
    setText(formatValue(v));
    setBase(v);
    setAsking(null);
    setError(null);
  };
  const placeholder =
    inferred !== undefined
      ? `${formatValue(inferred)}`
      : spec.default !== undefined
        ? `${formatValue(spec.default)}`
        : INFERABLE_PARAMS.has(spec.name)
          ? 'inferred from the input'
          : spec.required
            ? 'required'
            : '';
  const write = (v: JsonValue | undefined) => {
    if (v === undefined) {
      if (own) onUnset?.();
    } else onSet?.(v);
    setBase(v);
    setAsking(null);
  };
  const commit = (t: string) => {
    let mine: JsonValue | undefined;
    if (t.trim() === '') mine = undefined;
    else {
      const r = parseValue(spec.type, t);
      if (!r.ok) return setError(r.error);
      mine = r.value;
    }
    setError(null);
    const d = decideSave(base ?? null, value ?? null, mine ?? null);
    if (d.kind === 'nothing') return adopt(value);
    if (d.kind === 'save') return write(mine);
    setAsking(mine ?? null);
  };
  const readOnly = !onSet;
  const id = `param-${spec.name}`;
  let input;
  if (control === 'bool') {
    const shown = value ?? spec.default ?? false;
    input = (
      <input
        id={id}
        type="checkbox"
        checked={shown === true}
        disabled={readOnly}
        onChange={(e) => onSet?.(e.target.checked)}
      />
    );
  } else if (control === 'enum') {
    input = (
      <select
        id={id}
        value={value === undefined ? '' : value === null ? '\u0000none' : String(value)}
        disabled={readOnly}
        onChange={(e) => {
          const v = e.target.value;
          if (v === '') onUnset?.();
          else onSet?.(v === '\u0000none' ? null : v);
        }}
      >
        <option value="">{spec.default !== undefined ? `default (${formatValue(spec.default)})` : '—'}</option>
        {enumValues(spec.type).map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
        {allowsNone(spec.type) && <option value={'\u0000none'}>None</option>}
      </select>
    );
  } else if (spec.name === 'code' && spec.type === 'str') {
    // A Custom layer's Python class: several lines.
    input = (
      <textarea
        id={id}
        className="mono arch-code-param"
        value={text}
        rows={8}
        spellCheck={false}
        readOnly={readOnly}
        onFocus={() => setFocused(true)}
        onChange={(e) => setText(e.target.value)}
        onBlur={(e) => {
          setFocused(false);
          commit(e.target.value);
        }}
      />
    );
  } else {
    input = (
      <input
        id={id}
        className={`mono${inferred !== undefined && !own ? ' inferred' : ''}`}
        value={text}
        placeholder={placeholder}
        readOnly={readOnly}
        inputMode={control === 'int' ? 'numeric' : control === 'float' ? 'decimal' : undefined}
        onFocus={() => setFocused(true)}
        onChange={(e) => setText(e.target.value)}
        onBlur={(e) => {
          setFocused(false);
          commit(e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
          if (e.key === 'Escape') adopt(value);
        }}
      />
    );
  }
  return (
    <div className={`field attr param ${own ? 'own' : 'inherited'}`} data-testid={`param-${spec.name}`}>
      <div className="attr-head">
        <label htmlFor={id} title={spec.doc}>
          {spec.name}
          {spec.required && !own && inferred === undefined && !INFERABLE_PARAMS.has(spec.name) && <span className="field-error"> *</span>}
        </label>
        <span className="attr-type">{describeType(spec.type)}</span>
        {own && onUnset && (
          <button type="button" className="link small" onClick={onUnset} title="Back to the default (or the inferred value)">
            reset
          </button>
        )}
      </div>
      {input}
      {collision && (
        <div className="collision" role="alert" data-testid={`collision-${spec.name}`}>
          <p>
            Someone else changed this while you were typing: <span className="mono">{formatValue(base) || 'default'}</span> →{' '}
            <strong className="mono">{formatValue(value) || 'default'}</strong>. Yours: <span className="mono">{text || 'default'}</span>
          </p>
          <div className="choices">
            <button type="button" className="secondary small" onMouseDown={(e) => e.preventDefault()} onClick={() => adopt(value)} data-testid="keep-theirs">
              Keep theirs
            </button>
            <button
              type="button"
              className="small"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => {
                const r = text.trim() === '' ? { ok: true as const, value: undefined } : parseValue(spec.type, text);
                if (r.ok) write(r.value);
                else setError(r.error);
              }}
              data-testid="keep-mine"
            >
              Keep mine
            </button>
          </div>
        </div>
      )}
      {error && <small className="field-error">{error}</small>}
      {!error && !own && inferred !== undefined && (
        <small className="inferred-note" data-testid={`inferred-${spec.name}`}>
          inferred from the input: {formatValue(inferred)}
        </small>
      )}
    </div>
  );
}
