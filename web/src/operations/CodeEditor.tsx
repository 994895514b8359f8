// A CodeMirror 6 editor for Python. Uncontrolled inside (CodeMirror owns the
// text while the user types); `value` replaces the document when it changes
// from outside (a remote edit, "load theirs"), `onChange` reports typing.
// `problems` are shown inline as lint diagnostics (underline + gutter mark);
// the caller computes them for the current text.
import { python } from '@codemirror/lang-python';
import { indentUnit } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';

export interface EditorProblem {
  readonly from: number;
  readonly to: number;
  readonly message: string;
}

const NO_PROBLEMS: readonly EditorProblem[] = [];

export function CodeEditor({
  value,
  onChange,
  onSave,
  readOnly = false,
  problems = NO_PROBLEMS,
}: {
  value: string;
  onChange: (text: string) => void;
  onSave?: () => void;
  readOnly?: boolean;
  problems?: readonly EditorProblem[];
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, onSave });
  callbacks.current = { onChange, onSave };

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          keymap.of([
            {
              key: 'Mod-s',
              preventDefault: true,
              run: () => {
                callbacks.current.onSave?.();
                return true;
              },
            },
          ]),
          basicSetup,
          python(),
          lintGutter(),
          indentUnit.of('    '),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) callbacks.current.onChange(u.state.doc.toString());
          }),
          EditorView.theme({
            '&': { height: '100%', fontSize: '13px' },
            '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
            '.cm-gutters': { background: '#fafbfc', borderRight: '1px solid #e3e7ee', color: '#98a2b3' },
            '.cm-activeLineGutter': { background: '#f2f4f7' },
            '.cm-activeLine': { background: '#f9fafb' },
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once per mount; value changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readOnly]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    if (current !== value) v.dispatch({ changes: { from: 0, to: current.length, insert: value } });
  }, [value]);

  // After the value effect, so that offsets refer to the text they were made for.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const len = v.state.doc.length;
    const diagnostics: Diagnostic[] = problems.map((p) => ({
      from: Math.min(p.from, len),
      to: Math.min(Math.max(p.to, p.from), len),
      severity: 'error',
      source: 'kiln',
      message: p.message,
    }));
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [problems, readOnly]);

  return <div className="code-editor" ref={host} data-testid="code-editor" />;
}
