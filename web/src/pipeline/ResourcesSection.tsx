// The inspector's "Resources" of an operation instance: CPUs, memory, GPUs,
// GPU type, time limit, partition and backend its job asks for (reserved
// attributes, docs/compute.md). Closed, it shows one line of what is set.
// Each field writes set_attr when committed (Enter, leaving it) and del_attr
// when emptied; a value someone else changed while you typed asks, as the
// attribute fields do. Parsing and checks: resources.ts.
import { useEffect, useMemo, useState } from 'react';
import type { Backend } from '@kiln/client';
import { jsonEqual, type Guid, type JsonValue, type Op, type Tree } from '../model';
import {
  commitResource,
  formatMemory,
  formatResource,
  resourceOps,
  resourceSummary,
  resourceTyped,
  resourceValues,
  resourceWarnings,
  type ResourceValue,
} from './resources';
import '../compute/compute.css';

type EditFn = ((ops: readonly Op[], label: string) => string | null) | null;

export function ResourcesSection({
  tree,
  node,
  edit,
  owner,
  backends,
}: {
  tree: Tree;
  node: Guid;
  edit: EditFn;
  /** The instance's name, for the commit messages. */
  owner: string;
  /** The server's backends; null when not known (the backend is typed then). */
  backends: readonly Backend[] | null;
}) {
  const values = useMemo(() => resourceValues(tree, node), [tree, node]);
  const summary = resourceSummary(values);
  const warnings = resourceWarnings(values, backends);
  // Closed at first; opened by the user, or at once when something is set that needs a look.
  const [open, setOpen] = useState(warnings.size > 0);
  return (
    <details
      className="inspector-section resources"
      open={open}
      onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}
      data-testid="resources"
    >
      <summary className="section-label">
        Resources{' '}
        <span className="muted small resources-summary" data-testid="resources-summary">
          {summary || 'backend defaults'}
        </span>
      </summary>
      <div className="resources-grid">
        {values.map((v) =>
          v.spec.kind === 'backend' && backends && backends.length > 0 ? (
            <BackendField
              key={`${node}/${v.spec.attribute}`}
              value={v}
              node={node}
              edit={edit}
              owner={owner}
              backends={backends}
              warning={warnings.get(v.spec.attribute)}
            />
          ) : (
            <ResourceField key={`${node}/${v.spec.attribute}`} value={v} node={node} edit={edit} owner={owner} warning={warnings.get(v.spec.attribute)} />
          ),
        )}
      </div>
    </details>
  );
}

function editLabel(v: ResourceValue, value: JsonValue | null, owner: string): string {
  return value === null ? `Unset ${v.spec.attribute} of ${owner}` : `Set ${v.spec.attribute} of ${owner}`;
}

function ResourceField({
  value: v,
  node,
  edit,
  owner,
  warning,
}: {
  value: ResourceValue;
  node: Guid;
  edit: EditFn;
  owner: string;
  warning: string | undefined;
}) {
  const { spec, own } = v;
  const [text, setText] = useState(formatResource(spec, own));
  // The value the typing started from: a remote change meanwhile asks.
  const [base, setBase] = useState<JsonValue | null>(own);
  const [error, setError] = useState<string | null>(null);
  const adopt = (value: JsonValue | null) => {
    setText(formatResource(spec, value));
    setBase(value);
    setError(null);
  };
  useEffect(() => {
    // Follow remote changes while nothing is typed.
    if (!resourceTyped(spec, text, base)) adopt(own);
    // Only a new stored value should re-sync the text.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [own]);
  const typedNow = resourceTyped(spec, text, base);
  const collision = typedNow && !jsonEqual(base, own);
  const write = (value: JsonValue | null) => {
    const ops = resourceOps(node, spec, value, v.hasOwn);
    if (ops.length === 0 || edit?.(ops, editLabel(v, value, owner)) === null) adopt(value);
  };
  const commit = () => {
    const c = commitResource(spec, text, base, own);
    if (c.kind === 'invalid') return setError(c.error);
    setError(null);
    if (c.kind === 'nothing') adopt(c.value);
    else if (c.kind === 'write') write(c.value);
    // 'ask': the collision box below is shown; the user chooses there.
  };
  const keepMine = () => {
    const c = commitResource(spec, text, base, own);
    if (c.kind === 'invalid') return setError(c.error);
    write(c.kind === 'ask' ? c.mine : c.value);
  };
  const id = `resource-${spec.attribute}`;
  const inherited = !v.hasOwn && v.inherited !== null;
  const note =
    error ??
    warning ??
    (spec.kind === 'memory' && typeof own === 'number' && own >= 1024
      ? `= ${formatMemory(own)}`
      : inherited
        ? `from the definition: ${formatResource(spec, v.inherited)}`
        : null);
  return (
    <div className={`field resource ${v.hasOwn ? 'own' : 'inherited'} ${spec.kind === 'backend' ? 'wide' : ''}`} data-testid={id}>
      <div className="attr-head">
        <label htmlFor={id} title={spec.help}>
          {spec.label}
        </label>
      </div>
      <input
        id={id}
        value={text}
        placeholder={inherited ? formatResource(spec, v.inherited) : spec.placeholder}
        title={spec.help}
        disabled={!edit}
        aria-invalid={error !== null}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') adopt(own);
        }}
      />
      {collision && (
        <div className="collision" role="alert" data-testid={`collision-${spec.attribute}`}>
          <p>
            Someone else changed this while you were typing: <span className="mono">{formatResource(spec, base) || 'unset'}</span> →{' '}
            <strong className="mono">{formatResource(spec, own) || 'unset'}</strong>. Yours: <span className="mono">{text || 'unset'}</span>
          </p>
          <div className="choices">
            <button type="button" className="secondary small" onClick={() => adopt(own)}>
              Keep theirs
            </button>
            <button type="button" className="small" onClick={keepMine}>
              Keep mine
            </button>
          </div>
        </div>
      )}
      {note && (
        <small className={error ? 'field-error' : warning ? 'resource-warning' : 'muted'} role={error ? 'alert' : undefined}>
          {note}
        </small>
      )}
    </div>
  );
}

/** The backend, picked from the server's; a name it does not have stays shown (and selectable) as unknown. */
function BackendField({
  value: v,
  node,
  edit,
  owner,
  backends,
  warning,
}: {
  value: ResourceValue;
  node: Guid;
  edit: EditFn;
  owner: string;
  backends: readonly Backend[];
  warning: string | undefined;
}) {
  const current = typeof v.own === 'string' ? v.own : '';
  const inherited = !v.hasOwn && typeof v.inherited === 'string' ? v.inherited : null;
  const known = backends.some((b) => b.name === current);
  const choose = (name: string) => {
    const value = name === '' ? null : name;
    const ops = resourceOps(node, v.spec, value, v.hasOwn);
    if (ops.length > 0) edit?.(ops, editLabel(v, value, owner));
  };
  return (
    <label className="field resource wide" data-testid="resource-job_backend" title={v.spec.help}>
      <span>{v.spec.label}</span>
      <select value={current} disabled={!edit} onChange={(e) => choose(e.target.value)}>
        <option value="">{inherited ? `${inherited} (from the definition)` : 'As the run says'}</option>
        {current && !known && <option value={current}>unknown backend {current}</option>}
        {backends.map((b) => (
          <option key={b.name} value={b.name}>
            {b.name} ({b.kind === 'slurm' ? 'Slurm' : b.kind})
          </option>
        ))}
      </select>
      {warning && <small className="resource-warning">{warning}</small>}
    </label>
  );
}
