// The operation editor: the definition's Python code (CodeMirror) beside its
// interface — inputs, outputs and typed attributes. Save (button or Ctrl+S)
// sets the "code" attribute and, in the same patch (one undo step), brings
// the definition's Port children and parameter attributes in line with the
// code's interface (saveCode.ts, model/interfaceSync.ts); code that does not
// parse is saved alone and its problem stays shown. A remote change to the
// code replaces the editor's text unless the user has unsaved changes; then
// it offers to load theirs, and Save asks instead of overwriting theirs: keep
// theirs, keep mine, keep both when the changes do not overlap, or open the
// three-way view (model/collide decides; ThreeWay.tsx shows).
//
// Code ↔ interface: the server derives the interface from the code
// (POST interface/parse, ~500 ms after typing stops, and at once on save);
// a problem shows inline in the editor at its line and column. Editing the
// interface asks the server to rewrite the code (interface/update) and
// saves the result the same way.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { InterfaceProblem, KilnClient, OperationInterface } from '@kiln/client';
import { decideSave, effectiveAttr, hasConflictMarkers, merge3, type Guid, type Tree } from '../model';
import { Dialog } from '../ui/Dialog';
import { nameOf, pipelineGraph, pipelines } from '../pipeline/model';
import type { Editing } from '../pipeline/PipelineEditor';
import { describeError } from '../ui/format';
import { CodeEditor, type EditorProblem } from './CodeEditor';
import { InterfacePanel } from './InterfacePanel';
import { problemRange } from './interfaceEdit';
import { codeSaveOps } from './saveCode';
import { ThreeWayView } from './ThreeWay';

const PARSE_DELAY_MS = 500;

type Analysis =
  | { readonly kind: 'pending' }
  | { readonly kind: 'ok'; readonly code: string; readonly iface: OperationInterface }
  | { readonly kind: 'problem'; readonly code: string; readonly problem: InterfaceProblem }
  | { readonly kind: 'unavailable'; readonly message: string };

interface Props {
  readonly client: KilnClient;
  readonly project: string;
  readonly tree: Tree;
  readonly definition: Guid;
  readonly editing: Editing | null;
}

export default function OperationEditor(props: Props) {
  if (!props.tree.nodes[props.definition])
    return <div className="state centered">This operation does not exist at this point of the project.</div>;
  return <Editor key={props.definition} {...props} />;
}

function Editor({ client, project, tree, definition, editing }: Props) {
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

  // The interface of the text: parsed after a pause in typing, at once on
  // mount (a save asks at once itself when it has none for its text).
  const [analysis, setAnalysis] = useState<Analysis>({ kind: 'pending' });
  const parsedOnce = useRef(false);
  useEffect(() => {
    const abort = new AbortController();
    const timer = setTimeout(
      () => {
        parsedOnce.current = true;
        client.parseInterface(project, text, abort.signal).then(
          (r) => {
            if (!abort.signal.aborted)
              setAnalysis(r.ok ? { kind: 'ok', code: text, iface: r.value } : { kind: 'problem', code: text, problem: r.problem });
          },
          (e: unknown) => {
            if (!abort.signal.aborted) setAnalysis({ kind: 'unavailable', message: describeError(e) });
          },
        );
      },
      parsedOnce.current ? PARSE_DELAY_MS : 0,
    );
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, project, text]);

  // Offsets only make sense for the text they were computed on.
  const problems: readonly EditorProblem[] = useMemo(
    () => (analysis.kind === 'problem' && analysis.code === text ? [problemRange(text, analysis.problem)] : []),
    [analysis, text],
  );

  // The latest tree, for ops computed after an await.
  const treeNow = useRef(tree);
  treeNow.current = tree;

  // The interface of `code`: the current analysis when it is of that very
  // text, else asked for now. null when the code does not parse (the problem
  // is shown) or the interface cannot be read.
  const interfaceOf = async (code: string): Promise<OperationInterface | null> => {
    if (analysis.kind === 'ok' && analysis.code === code) return analysis.iface;
    try {
      const r = await client.parseInterface(project, code);
      setAnalysis(r.ok ? { kind: 'ok', code, iface: r.value } : { kind: 'problem', code, problem: r.problem });
      return r.ok ? r.value : null;
    } catch (e) {
      setAnalysis({ kind: 'unavailable', message: describeError(e) });
      return null;
    }
  };

  const [saving, setSaving] = useState(false);
  // A save that found someone else's change: what the user is asked about.
  const [collision, setCollision] = useState<{ base: string; theirs: string; mine: string } | null>(null);
  const [threeWay, setThreeWay] = useState<{ base: string; theirs: string; mine: string } | null>(null);
  const write = async (code: string) => {
    if (!editing || saving) return;
    setSaving(true);
    try {
      const iface = await interfaceOf(code);
      const r = codeSaveOps(treeNow.current, definition, code, iface);
      if (editing.edit(r.ops, `Edit the code of ${nameOf(treeNow.current, definition)}`) === null) {
        setBase(code);
        editing.notify('info', r.message);
      }
    } finally {
      setSaving(false);
    }
  };
  const save = async () => {
    if (!editing || !dirty || saving) return;
    if (hasConflictMarkers(text)) {
      editing.notify('error', 'The code still has conflict markers (<<<<<<< mine … >>>>>>> theirs): choose what stays first');
      return;
    }
    const decision = decideSave(base, saved, text);
    if (decision.kind === 'nothing') setBase(saved);
    else if (decision.kind === 'ask') setCollision({ base, theirs: saved, mine: text });
    else await write(text);
  };
  const merged = collision ? merge3(collision.base, collision.theirs, collision.mine) : null;

  // An interface edit: the server rewrites the code, which is saved as one
  // undoable patch. Unsaved typing goes with it (it is what was rewritten).
  const [rewriting, setRewriting] = useState(false);
  const textNow = useRef(text);
  textNow.current = text;
  const editInterface = async (next: OperationInterface) => {
    if (!editing) return;
    if (theirs && dirty)
      return editing.notify('error', 'Someone else changed this code: save (and choose what to keep) before editing the interface');
    const from = text;
    setRewriting(true);
    try {
      const r = await client.updateInterface(project, from, next);
      if (!r.ok) return editing.notify('error', `Cannot change the interface: ${r.problem.message}`);
      if (textNow.current !== from) return editing.notify('error', 'The code changed while the interface was updated; try again');
      const iface = await interfaceOf(r.value);
      if (textNow.current !== from) return editing.notify('error', 'The code changed while the interface was updated; try again');
      const save = codeSaveOps(treeNow.current, definition, r.value, iface, 'Interface saved');
      if (editing.edit(save.ops, `Edit the interface of ${nameOf(treeNow.current, definition)}`) === null) {
        setText(r.value);
        setBase(r.value);
        if (save.removedConnections > 0) editing.notify('info', save.message);
      }
    } catch (e) {
      editing.notify('error', `Cannot change the interface: ${describeError(e)}`);
    } finally {
      setRewriting(false);
    }
  };
  const usedIn = useMemo(
    () =>
      pipelines(tree).filter((p) => pipelineGraph(tree, p.guid).nodes.some((n) => n.definition === definition)).map((p) => p.name),
    [tree, definition],
  );

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
                <button
                  type="button"
                  className="run save"
                  disabled={!dirty || saving}
                  onClick={() => void save()}
                  data-testid="save-code"
                  title="Save (Ctrl+S)"
                >
                  {saving ? 'Saving…' : 'Save'}
                </button>
              </>
            )}
          </div>
        </div>
        <CodeEditor value={text} onChange={setText} onSave={() => void save()} readOnly={!editing} problems={problems} />
        {threeWay && (
          <ThreeWayView
            {...threeWay}
            onClose={() => setThreeWay(null)}
            onUse={(m) => {
              // The merge is edited against theirs: the next Save writes it over theirs.
              setText(m);
              setBase(threeWay.theirs);
              setThreeWay(null);
            }}
          />
        )}
      </div>
      {collision && merged && (
        <Dialog
          title="Someone else changed this code"
          onClose={() => setCollision(null)}
          actions={
            <>
              <button type="button" className="secondary" onClick={() => setCollision(null)}>
                Cancel
              </button>
              <button
                type="button"
                className="secondary"
                data-testid="collision-three-way"
                onClick={() => {
                  setThreeWay(collision);
                  setCollision(null);
                }}
              >
                Three-way view…
              </button>
              <button
                type="button"
                className="secondary"
                data-testid="collision-theirs"
                onClick={() => {
                  setText(collision.theirs);
                  setBase(collision.theirs);
                  setCollision(null);
                }}
              >
                Keep theirs
              </button>
              {merged.conflicts === 0 && (
                <button
                  type="button"
                  className="secondary"
                  data-testid="collision-both"
                  onClick={() => {
                    setText(merged.text);
                    setCollision(null);
                    void write(merged.text);
                  }}
                >
                  Keep both
                </button>
              )}
              <button
                type="button"
                data-testid="collision-mine"
                onClick={() => {
                  setCollision(null);
                  void write(collision.mine);
                }}
              >
                Keep mine
              </button>
            </>
          }
        >
          <p className="collision-choice">
            While you were editing, the stored code of {nameOf(tree, definition)} changed. Saving now would overwrite that
            change.
          </p>
          <p>
            {merged.conflicts === 0
              ? 'Your changes and theirs touch different lines: “Keep both” saves the two together.'
              : `Your changes and theirs overlap in ${merged.conflicts} place${merged.conflicts > 1 ? 's' : ''}: keep one side, or open the three-way view to combine them.`}
          </p>
        </Dialog>
      )}
      <aside className="inspector interface" aria-label="Interface">
        <div className="panel-title">
          Interface{' '}
          <span className="muted small" data-testid="interface-state" data-state={analysis.kind}>
            {analysis.kind === 'pending' ? 'reading the code…' : rewriting ? 'rewriting the code…' : 'from the code'}
          </span>
        </div>
        {analysis.kind === 'problem' && (
          <div className="inspector-section">
            <p className="form-error small" role="alert" data-testid="interface-problem">
              {analysis.problem.line !== null && <>Line {analysis.problem.line}: </>}
              {analysis.problem.message}
            </p>
            <p className="muted small">Fix the code to see and edit its interface.</p>
          </div>
        )}
        {analysis.kind === 'unavailable' && (
          <div className="inspector-section">
            <p className="form-error small" role="alert">
              Cannot read the interface: {analysis.message}
            </p>
          </div>
        )}
        {analysis.kind === 'ok' && (
          <InterfacePanel
            iface={analysis.iface}
            onChange={editing && !rewriting && analysis.code === text ? (next) => void editInterface(next) : null}
          />
        )}
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
