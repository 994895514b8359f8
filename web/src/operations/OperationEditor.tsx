// The operation editor: the definition's Python code (CodeMirror) beside its
// interface — inputs, outputs and typed attributes. Save (button or Ctrl+S)
// sets the "code" attribute with one set_attr patch. A remote change to the
// code replaces the editor's text unless the user has unsaved changes; then
// it offers to load theirs.
import { useEffect, useMemo, useState } from 'react';
import { effectiveAttr, type Guid, type Tree } from '../model';
import { attributeFields, nameOf, pipelineGraph, pipelines, portsOf } from '../pipeline/model';
import { AttributeInput } from '../pipeline/Inspector';
import type { Editing } from '../pipeline/PipelineEditor';
import { CodeEditor } from './CodeEditor';

export default function OperationEditor({
  tree,
  definition,
  editing,
}: {
  tree: Tree;
  definition: Guid;
  editing: Editing | null;
}) {
  if (!tree.nodes[definition])
    return <div className="state centered">This operation does not exist at this point of the project.</div>;
  return <Editor key={definition} tree={tree} definition={definition} editing={editing} />;
}

function Editor({ tree, definition, editing }: { tree: Tree; definition: Guid; editing: Editing | null }) {
  const stored = effectiveAttr(tree, definition, 'code');
  const saved = typeof stored === 'string' ? stored : '';
  const [text, setText] = useState(saved);
  const [base, setBase] = useState(saved); // what the text was last in sync with
  const dirty = text !== base;
  const theirs = saved !== base; // the stored code changed under us

  // Follow remote changes while there is nothing unsaved.
  useEffect(() => {
    if (!dirty && saved !== base) {
      setText(saved);
      setBase(saved);
    }
  }, [saved, base, dirty]);

  const save = () => {
    if (!editing || !dirty) return;
    if (editing.edit([{ op: 'set_attr', node: definition, name: 'code', value: text }], `Edit the code of ${nameOf(tree, definition)}`) === null) {
      setBase(text);
      editing.notify('info', 'Code saved');
    }
  };

  const inputs = portsOf(tree, definition).filter((p) => p.direction === 'input');
  const outputs = portsOf(tree, definition).filter((p) => p.direction === 'output');
  const fields = attributeFields(tree, definition);
  const usedIn = useMemo(
    () =>
      pipelines(tree).filter((p) => pipelineGraph(tree, p.guid).nodes.some((n) => n.definition === definition)).map((p) => p.name),
    [tree, definition],
  );
  const edit = editing ? (ops: Parameters<Editing['edit']>[0], label: string) => editing.edit(ops, label) : null;

  return (
    <div className="operation-editor">
      <div className="code-column">
        <div className="canvas-toolbar">
          <div className="toolbar-group">
            <strong className="op-title">{nameOf(tree, definition)}</strong>
            <span className="muted small">operation.py</span>
            {dirty && <span className="dirty-dot" title="Unsaved changes" aria-label="Unsaved changes" />}
          </div>
          <div className="toolbar-group">
            {theirs && dirty && (
              <span className="conflict small" role="status">
                Someone else changed this code.{' '}
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    setText(saved);
                    setBase(saved);
                  }}
                >
                  Load theirs
                </button>
              </span>
            )}
            {editing && (
              <>
                <button
                  type="button"
                  className="tool"
                  disabled={!dirty}
                  onClick={() => setText(base)}
                  title="Discard unsaved changes"
                >
                  Revert
                </button>
                <button type="button" className="run save" disabled={!dirty} onClick={save} data-testid="save-code" title="Save (Ctrl+S)">
                  Save
                </button>
              </>
            )}
          </div>
        </div>
        <CodeEditor value={text} onChange={setText} onSave={save} readOnly={!editing} />
      </div>
      <aside className="inspector interface" aria-label="Interface">
        <div className="panel-title">Interface</div>
        <div className="inspector-section">
          <div className="section-label">Inputs</div>
          <PortList ports={inputs} empty="No inputs" />
          <div className="section-label spaced">Outputs</div>
          <PortList ports={outputs} empty="No outputs" />
        </div>
        <div className="inspector-section">
          <div className="section-label">Attributes</div>
          {fields.length === 0 && <p className="muted small">No attributes. Parameters of __init__ appear here.</p>}
          {fields.map((f) => (
            <AttributeInput key={`${definition}/${f.name}`} field={f} node={definition} edit={edit} />
          ))}
          {fields.length > 0 && <p className="muted small">Defaults for every instance; pipelines can override them.</p>}
        </div>
        <div className="inspector-section">
          <div className="section-label">Used in</div>
          {usedIn.length === 0 ? (
            <p className="muted small">No pipeline uses this operation yet.</p>
          ) : (
            <ul className="plain-list">
              {usedIn.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </div>
      </aside>
    </div>
  );
}

function PortList({ ports, empty }: { ports: ReturnType<typeof portsOf>; empty: string }) {
  if (ports.length === 0) return <p className="muted small">{empty}</p>;
  return (
    <ul className="port-list">
      {ports.map((p) => (
        <li key={p.guid}>
          <span className={`dir ${p.direction}`}>{p.direction === 'input' ? 'in' : 'out'}</span>
          <span className="port-name">{p.name}</span>
          <span className="muted">{p.dataType}</span>
        </li>
      ))}
    </ul>
  );
}
