// The inspector beside the canvas: the selected operation's name, typed
// attributes (set_attr; reset = del_attr back to the definition's value; a
// value someone else changed while you typed asks: keep theirs or mine) and
// ports; with nothing selected, the pipeline's summary and the shortcuts.
// An Input shows what it reads instead of attributes (InputBinding); an
// Output says under which name its runs store what flows in. An operation
// whose code references an architecture picks it (ReferencePicker). An
// operation's job resources (CPUs, memory, GPUs, time, where it runs) have
// their own section (ResourcesSection).
import { useEffect, useMemo, useState } from 'react';
import type { Backend } from '@kiln/client';
import type { ArtifactSource } from '../artifacts/source';
import { decideSave, type Guid, type JsonValue, type Op, type Tree } from '../model';
import { operationKind, type InputChoice } from './data';
import { InputBinding } from './InputBinding';
import { artifactChoices, attributeFields, nameOf, portsOf, type ArtifactChoice, type AttributeField } from './model';
import { commitField, fieldState, typed } from './collision';
import { ReferencePicker } from './ReferencePicker';
import { ResourcesSection } from './ResourcesSection';
import { LineageLink } from '../provenance/LineageLink';
import '../operations/collide.css';

type EditFn = ((ops: readonly Op[], label: string) => string | null) | null;

export function Inspector({
  tree,
  pipeline,
  node,
  selectionCount,
  edit,
  operationHref,
  inputChoices,
  artifacts,
  onUploaded,
  backends = null,
}: {
  tree: Tree;
  pipeline: Guid;
  node: Guid | null;
  selectionCount: number;
  edit: EditFn;
  operationHref?: ((definition: Guid) => string) | undefined;
  /** What an Input can read (the palette's list); the tree's artifacts when absent. */
  inputChoices?: readonly InputChoice[] | undefined;
  /** Where an Input's "Upload" sends the file; no upload without it. */
  artifacts?: ArtifactSource | undefined;
  onUploaded?: (() => void) | undefined;
  /** The server's compute backends, for Resources; null when not known. */
  backends?: readonly Backend[] | null;
}) {
  void pipeline;
  void selectionCount;
  if (!node || !tree.nodes[node]) return null;
  return (
    <NodeInspector
      tree={tree}
      node={node}
      edit={edit}
      operationHref={operationHref}
      inputChoices={inputChoices}
      artifacts={artifacts}
      onUploaded={onUploaded}
      backends={backends}
    />
  );
}

/** The artifacts an Output stored: named after it (`name/input` with several inputs); a few, for their lineage. */
function storedBy<T extends { readonly name: string; readonly digest: string }>(artifacts: readonly T[], name: string): T[] {
  return artifacts.filter((a) => a.name === name || a.name.startsWith(`${name}/`)).slice(0, 5);
}

/** Attributes an Input or Output keeps for Kiln (plan.h): shown by InputBinding, not as fields. */
const DATA_ATTRIBUTES = new Set(['artifact', 'serializer']);

function NodeInspector({
  tree,
  node,
  edit,
  operationHref,
  inputChoices,
  artifacts: source,
  onUploaded,
  backends,
}: {
  tree: Tree;
  node: Guid;
  edit: EditFn;
  operationHref?: ((definition: Guid) => string) | undefined;
  inputChoices?: readonly InputChoice[] | undefined;
  artifacts?: ArtifactSource | undefined;
  onUploaded?: (() => void) | undefined;
  backends: readonly Backend[] | null;
}) {
  const n = tree.nodes[node]!;
  const kind = operationKind(tree, node);
  const fields = attributeFields(tree, node).filter((f) => kind === 'operation' || !DATA_ATTRIBUTES.has(f.name));
  const ports = portsOf(tree, node);
  const definition = n.base;
  const artifacts = useMemo(() => artifactChoices(tree), [tree]);
  return (
    <aside className="inspector floating" aria-label="Inspector" data-testid="inspector">
      <div className="panel-title">{kind === 'input' ? 'Input' : kind === 'output' ? 'Output' : 'Operation'}</div>
      <div className="inspector-section">
        <TextField
          label="Name"
          value={nameOf(tree, node)}
          disabled={!edit}
          onCommit={(v) => edit?.([{ op: 'set_attr', node, name: 'name', value: v }], `Rename ${nameOf(tree, node)} to ${v}`)}
        />
        {kind === 'output' && (
          <p className="muted small" data-testid="output-hint">
            Each run stores what flows in as the artifact <strong>{nameOf(tree, node)}</strong> of the project.
          </p>
        )}
        {kind === 'output' &&
          storedBy<{ name: string; digest: string }>(inputChoices ?? artifacts, nameOf(tree, node)).map((a) => (
            <p key={a.digest} className="small" data-testid="output-lineage">
              Stored {a.name} <code title={a.digest}>{a.digest.slice(0, 10)}</code> · <LineageLink digest={a.digest} />
            </p>
          ))}
        {kind === 'operation' && definition && tree.nodes[definition] && (
          <p className="muted small">
            Instance of{' '}
            {operationHref ? <a href={operationHref(definition)}>{nameOf(tree, definition)}</a> : nameOf(tree, definition)}
          </p>
        )}
      </div>
      {kind === 'input' && (
        <InputBinding
          tree={tree}
          node={node}
          edit={edit}
          choices={inputChoices ?? artifacts.map((a) => ({ ...a, serializer: a.serializer ?? 'raw', note: a.serializer ?? 'raw' }))}
          source={source}
          onUploaded={onUploaded}
        />
      )}
      {(kind === 'operation' || fields.length > 0) && (
        <div className="inspector-section">
          <div className="section-label">Attributes</div>
          {fields.length === 0 && <p className="muted small">This operation has no attributes.</p>}
          {fields.map((f) =>
            f.name === 'artifact' ? (
              <ArtifactPicker key={`${node}/${f.name}`} field={f} node={node} edit={edit} choices={artifacts} />
            ) : (
              <AttributeInput key={`${node}/${f.name}`} field={f} node={node} edit={edit} owner={nameOf(tree, node)} />
            ),
          )}
        </div>
      )}
      {kind === 'operation' && <ReferencePicker tree={tree} node={node} edit={edit} />}
      {kind === 'operation' && (
        <ResourcesSection key={node} tree={tree} node={node} edit={edit} owner={nameOf(tree, node)} backends={backends} />
      )}
      <div className="inspector-section">
        <div className="section-label">Ports</div>
        <ul className="port-list">
          {ports.map((p) => (
            <li key={p.guid}>
              <span className={`dir ${p.direction}`}>{p.direction === 'input' ? 'in' : 'out'}</span>
              <span className="port-name">{p.name}</span>
              <span className="muted">{p.dataType}</span>
            </li>
          ))}
        </ul>
      </div>
    </aside>
  );
}

function TextField({
  label,
  value,
  disabled,
  onCommit,
}: {
  label: string;
  value: string;
  disabled: boolean;
  /** Returns null when the edit applied (Editing.edit's convention). */
  onCommit: (v: string) => string | null | undefined;
}) {
  const [text, setText] = useState(value);
  // As for attributes: a rename by someone else while you type asks.
  const [base, setBase] = useState(value);
  const adopt = (v: string) => {
    setText(v);
    setBase(v);
  };
  useEffect(() => {
    if (text.trim() === base) adopt(value);
    // Only a new stored value should re-sync the text.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const mine = text.trim();
  const collision = mine !== '' && decideSave(base, value, mine).kind === 'ask';
  const write = (t: string) => {
    if (onCommit(t) === null) setBase(t);
  };
  const commit = () => {
    if (mine === '') return adopt(value);
    const d = decideSave(base, value, mine);
    if (d.kind === 'nothing') adopt(value);
    else if (d.kind === 'save') write(mine);
    // 'ask': the collision box below is shown; the user chooses there.
  };
  return (
    <div>
      <label className="field">
        <span>{label}</span>
        <input
          value={text}
          disabled={disabled}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
            if (e.key === 'Escape') adopt(value);
          }}
        />
      </label>
      {collision && (
        <div className="collision" role="alert" data-testid="collision-name">
          <p>
            Someone else renamed this while you were typing: {base} → <strong>{value}</strong>. Yours: {mine}
          </p>
          <div className="choices">
            <button type="button" className="secondary small" onClick={() => adopt(value)}>
              Keep theirs
            </button>
            <button
              type="button"
              className="small"
              onClick={() => {
                if (onCommit(mine) === null) adopt(mine);
              }}
            >
              Keep mine
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function display(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const TYPE_LABEL: Record<AttributeField['type'], string> = {
  int: 'integer',
  float: 'number',
  bool: 'boolean',
  string: 'text',
  json: 'JSON',
};

export function AttributeInput({
  field,
  node,
  edit,
  owner,
}: {
  field: AttributeField;
  node: Guid;
  edit: EditFn;
  /** The node's name, for the commit message (the history shows it as renamed later). */
  owner?: string;
}) {
  const of = owner ? ` of ${owner}` : '';
  const [text, setText] = useState(display(field.value));
  // The value the text started from: a remote change while the user types
  // is a collision (collision.ts), never a silent loss on either side.
  const [base, setBase] = useState<JsonValue>(field.value);
  const [error, setError] = useState<string | null>(null);
  const state = fieldState(field.type, text, base, field.value);
  useEffect(() => {
    // Follow remote changes while nothing is typed.
    if (!typed(field.type, text, base)) {
      setText(display(field.value));
      setBase(field.value);
      setError(null);
    }
    // Only a new stored value should re-sync the text.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [field.value]);
  const id = `attr-${field.name}`;
  const set = (value: JsonValue) =>
    edit?.([{ op: 'set_attr', node, name: field.name, value }], `Set ${field.name}${of}`);
  const adopt = (value: JsonValue) => {
    setText(display(value));
    setBase(value);
    setError(null);
  };
  const commit = () => {
    const c = commitField(field.type, text, base, field.value);
    if (c.kind === 'invalid') return setError(c.error);
    setError(null);
    if (c.kind === 'nothing') adopt(c.value);
    else if (c.kind === 'write') {
      if (set(c.value) === null) setBase(c.value);
    }
    // 'ask': the collision box below is already shown; the user chooses there.
  };
  const keepMine = () => {
    const c = commitField(field.type, text, base, field.value);
    if (c.kind === 'invalid') return setError(c.error);
    const mine = c.kind === 'ask' ? c.mine : c.value;
    if (set(mine) === null) adopt(mine);
  };
  const reset =
    field.own && field.inherited !== undefined && edit ? (
      <button
        type="button"
        className="link small"
        title={`Back to the definition's value (${display(field.inherited)})`}
        onClick={() => edit([{ op: 'del_attr', node, name: field.name }], `Reset ${field.name}${of}`)}
      >
        reset
      </button>
    ) : null;
  return (
    <div className={`field attr ${field.own ? 'own' : 'inherited'}`} data-testid={`attr-${field.name}`}>
      <div className="attr-head">
        <label htmlFor={id}>{field.name}</label>
        <span className="attr-type">{TYPE_LABEL[field.type]}</span>
        {reset}
      </div>
      {field.type === 'bool' ? (
        <input
          id={id}
          type="checkbox"
          checked={field.value === true}
          disabled={!edit}
          onChange={(e) => set(e.target.checked)}
        />
      ) : field.type === 'json' ? (
        <textarea
          id={id}
          value={text}
          rows={3}
          disabled={!edit}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
        />
      ) : (
        <input
          id={id}
          type={field.type === 'string' ? 'text' : 'number'}
          inputMode={field.type === 'int' ? 'numeric' : field.type === 'float' ? 'decimal' : undefined}
          step={field.type === 'int' ? 1 : 'any'}
          value={text}
          disabled={!edit}
          aria-invalid={error !== null}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
            if (e.key === 'Escape') adopt(field.value);
          }}
        />
      )}
      {state.kind === 'collision' && (
        <div className="collision" role="alert" data-testid={`collision-${field.name}`}>
          <p>
            Someone else changed this while you were typing: <span className="mono">{display(state.base)}</span> →{' '}
            <strong className="mono">{display(state.theirs)}</strong>. Yours: <span className="mono">{text}</span>
          </p>
          <div className="choices">
            <button type="button" className="secondary small" onClick={() => adopt(field.value)} data-testid="keep-theirs">
              Keep theirs
            </button>
            <button type="button" className="small" onClick={keepMine} data-testid="keep-mine">
              Keep mine
            </button>
          </div>
        </div>
      )}
      {error && <small className="field-error">{error}</small>}
      {!error && !field.own && field.inherited !== undefined && <small className="muted">from the definition</small>}
    </div>
  );
}

/**
 * An Input operation's `artifact` (a digest), picked from the project's
 * artifacts by name. A digest that names none of them stays shown (and
 * selectable) as unknown, so nothing is lost by opening the inspector.
 */
function ArtifactPicker({
  field,
  node,
  edit,
  choices,
}: {
  field: AttributeField;
  node: Guid;
  edit: EditFn;
  choices: readonly ArtifactChoice[];
}) {
  const current = typeof field.value === 'string' ? field.value : '';
  const known = choices.some((c) => c.digest === current);
  return (
    <label className="field" data-testid="attr-artifact">
      <span>
        artifact <span className="muted small">from the project's artifacts</span>
      </span>
      <select
        value={current}
        disabled={!edit}
        onChange={(e) =>
          edit?.([{ op: 'set_attr', node, name: 'artifact', value: e.target.value }], 'Choose the input artifact')
        }
      >
        <option value="" disabled>
          {choices.length ? 'Choose an artifact…' : 'No artifacts yet: upload one in Artifacts'}
        </option>
        {current && !known && <option value={current}>unknown artifact {current.slice(0, 12)}</option>}
        {choices.map((c) => (
          <option key={c.guid} value={c.digest}>
            {c.name} · {c.digest.slice(0, 8)}
          </option>
        ))}
      </select>
    </label>
  );
}
