// The interface an operation's code declares (inputs, outputs, typed
// attributes with defaults), as the server derived it from the code. When
// `onChange` is given the user may add, rename, retype and remove fields and
// change defaults; each committed change hands the whole new interface to
// `onChange`, which rewrites the code (the code stays the source of truth).
// References (`net: kiln.Architecture`) are listed read-only: they are
// pointers of the instances, edited in the code.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { InterfaceAttribute, InterfacePort, OperationInterface } from '@kiln/client';
import {
  addField,
  defaultText,
  nameProblem,
  parseDefault,
  removeField,
  renameField,
  retypeField,
  setDefault,
  type Section,
} from './interfaceEdit';

export function InterfacePanel({
  iface,
  onChange,
}: {
  iface: OperationInterface;
  /** null: read-only (no write access, an old commit, a change in flight). */
  onChange: ((next: OperationInterface) => void) | null;
}) {
  const sections: { key: Section; label: string; empty: string }[] = [
    { key: 'inputs', label: 'Inputs', empty: 'No inputs: parameters of execute() appear here.' },
    { key: 'outputs', label: 'Outputs', empty: 'No outputs: the names execute() returns appear here.' },
    { key: 'attributes', label: 'Attributes', empty: 'No attributes: parameters of __init__ appear here.' },
  ];
  return (
    <div data-testid="interface-fields">
      {sections.map((s) => (
        <div className="inspector-section" key={s.key} data-section={s.key}>
          <div className="section-label iface-head">
            <span>{s.label}</span>
            {onChange && (
              <button
                type="button"
                className="ghost small"
                onClick={() => onChange(addField(iface, s.key))}
                data-testid={`add-${s.key}`}
                title={`Add ${s.key === 'attributes' ? 'an attribute' : s.key === 'inputs' ? 'an input' : 'an output'}`}
              >
                + Add
              </button>
            )}
          </div>
          {iface[s.key].length === 0 && <p className="muted small">{s.empty}</p>}
          <ul className="iface-list">
            {(iface[s.key] as readonly (InterfacePort | InterfaceAttribute)[]).map((f, i) => (
              <FieldRow key={`${s.key}/${i}/${f.name}`} iface={iface} section={s.key} index={i} field={f} onChange={onChange} />
            ))}
          </ul>
        </div>
      ))}
      {(iface.references?.length ?? 0) > 0 && (
        <div className="inspector-section" data-section="references" data-testid="interface-references">
          <div className="section-label iface-head">
            <span>References</span>
          </div>
          <p className="muted small">Each instance points at one; pick it in the pipeline's inspector.</p>
          <ul className="iface-list">
            {iface.references!.map((r) => (
              <li className="iface-row" key={r.name} data-name={r.name}>
                <span className="iface-name mono">{r.name}</span>
                <span className="muted">{r.type}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function FieldRow({
  iface,
  section,
  index,
  field,
  onChange,
}: {
  iface: OperationInterface;
  section: Section;
  index: number;
  field: InterfacePort | InterfaceAttribute;
  onChange: ((next: OperationInterface) => void) | null;
}) {
  const [error, setError] = useState<string | null>(null);
  const attr = section === 'attributes' ? (field as InterfaceAttribute) : null;
  const ro = onChange === null;
  return (
    <li className="iface-row" data-testid="interface-field" data-name={field.name}>
      {section !== 'attributes' && <span className={`dir ${section === 'inputs' ? 'input' : 'output'}`}>{section === 'inputs' ? 'in' : 'out'}</span>}
      <CommitInput
        label={`Name of ${field.name}`}
        className="iface-name"
        value={field.name}
        readOnly={ro}
        onCommit={(name) => {
          const why = nameProblem(iface, section, index, name);
          setError(why);
          if (!why) onChange?.(renameField(iface, section, index, name));
          return !why;
        }}
      />
      <CommitInput
        label={`Type of ${field.name}`}
        className="iface-type"
        value={field.type}
        readOnly={ro}
        onCommit={(type) => {
          setError(null);
          onChange?.(retypeField(iface, section, index, type));
          return true;
        }}
      />
      {attr && (
        <CommitInput
          label={`Default of ${field.name}`}
          className="iface-default"
          value={defaultText(attr)}
          placeholder={attr.required ? 'required' : ''}
          readOnly={ro || attr.expr !== undefined}
          onCommit={(text) => {
            const r = parseDefault(attr.type, text);
            setError(r.ok ? null : r.error);
            if (r.ok) onChange?.(setDefault(iface, index, r.value));
            return r.ok;
          }}
        />
      )}
      {!ro && (
        <button
          type="button"
          className="ghost small"
          aria-label={`Remove ${field.name}`}
          title={`Remove ${field.name}`}
          onClick={() => onChange(removeField(iface, section, index))}
        >
          ×
        </button>
      )}
      {error && (
        <span className="field-error small" role="alert">
          {error}
        </span>
      )}
    </li>
  );
}

/** A text field that commits on Enter or blur and reverts on Escape (or when onCommit refuses). */
function CommitInput({
  label,
  value,
  className,
  placeholder,
  readOnly,
  onCommit,
}: {
  label: string;
  value: string;
  className: string;
  placeholder?: string;
  readOnly: boolean;
  onCommit: (text: string) => boolean;
}) {
  const [text, setText] = useState(value);
  // Enter and then blur would commit the same text twice while the change
  // is on its way to the server.
  const committed = useRef<string | null>(null);
  useEffect(() => {
    setText(value);
    committed.current = null;
  }, [value]);
  const commit = () => {
    if (text === value || text === committed.current) return;
    if (onCommit(text)) committed.current = text;
    else setText(value);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') commit();
    else if (e.key === 'Escape') setText(value);
  };
  return (
    <input
      aria-label={label}
      className={className}
      value={text}
      placeholder={placeholder}
      readOnly={readOnly}
      spellCheck={false}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={onKey}
    />
  );
}
