// A CodeMirror 6 editor for Python. Uncontrolled inside (CodeMirror owns the
// text while the user types); `value` replaces the document when it changes
// from outside (a remote edit, "load theirs"), `onChange` reports typing.
import { python } from '@codemirror/lang-python';
import { indentUnit } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';

export function CodeEditor({
  value,
  onChange,
  onSave,
  readOnly = false,
}: {
  value: string;
  onChange: (text: string) => void;
  onSave?: () => void;
  readOnly?: boolean;
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

  return <div className="code-editor" ref={host} data-testid="code-editor" />;
}
