import { useEffect, useRef } from "preact/hooks";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { autocompletion } from "@codemirror/autocomplete";
import { sql, PostgreSQL } from "@codemirror/lang-sql";

interface Props {
  value: string;
  schema: Record<string, string[]>; // stream → field names, for completion
  onChange: (sql: string) => void;
  onRun: () => void;
}

/** CodeMirror 6 with SQL highlighting, completion of stream and field names, and Ctrl/Cmd+Enter to run. */
export function SqlEditor({ value, schema, onChange, onRun }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const handlers = useRef({ onChange, onRun });
  handlers.current = { onChange, onRun };

  useEffect(() => {
    const state = EditorState.create({
      doc: value,
      extensions: [
        history(),
        keymap.of([
          { key: "Mod-Enter", run: () => { handlers.current.onRun(); return true; } },
          ...defaultKeymap, ...historyKeymap,
        ]),
        sql({ dialect: PostgreSQL, schema, upperCaseKeywords: true }),
        autocompletion(),
        placeholder("SELECT * FROM stream WHERE ... (Ctrl+Enter runs)"),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": "SQL statement" }),
        EditorView.updateListener.of((u) => { if (u.docChanged) handlers.current.onChange(u.state.doc.toString()); }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current! });
    return () => view.current?.destroy();
  }, [JSON.stringify(schema)]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value)
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  return <div class="sql-editor" ref={host} />;
}
