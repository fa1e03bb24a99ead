// CodeMirror 6 editors for SPARQL, Turtle and YAML (legacy modes), with completion from the hub's vocabularies and lint marks.
import { basicSetup, EditorView } from 'codemirror';
import { EditorState, type Extension } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { StreamLanguage } from '@codemirror/language';
import { sparql } from '@codemirror/legacy-modes/mode/sparql';
import { turtle } from '@codemirror/legacy-modes/mode/turtle';
import { yaml } from '@codemirror/legacy-modes/mode/yaml';
import { json } from '@codemirror/legacy-modes/mode/javascript';
import { autocompletion, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { setDiagnostics, lintGutter, type Diagnostic } from '@codemirror/lint';
import vocabulary from 'virtual:vocabulary';

const vocab = vocabulary as { prefixes: Record<string, string>; terms: Array<{ prefix: string; local: string; label?: string }> };

/** The nonce of this page's CSP (the shell's meta tag): CodeMirror's <style> elements carry it. */
function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
}

export type EditorLanguage = 'sparql' | 'turtle' | 'yaml' | 'json';

const languages: Record<EditorLanguage, () => Extension> = {
  sparql: () => StreamLanguage.define(sparql),
  turtle: () => StreamLanguage.define(turtle),
  yaml: () => StreamLanguage.define(yaml),
  json: () => StreamLanguage.define(json),
};

/** Declared prefixes of the text (SPARQL PREFIX, Turtle @prefix/PREFIX, YARRRML `prefixes:` lines). */
function declared(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:@?prefix)\s+([A-Za-z][\w.-]*)?:/gi)) out.add(m[1] ?? '');
  for (const m of text.matchAll(/^\s+([A-Za-z][\w.-]*):\s*["']?https?:/gm)) out.add(m[1]!);
  return out;
}

/**
 * Completion of `prefix:` and `prefix:local` from ontologies/ and mappings/ (built into the bundle): picking a term whose
 * prefix is not declared yet also inserts its PREFIX line (SPARQL) or @prefix line (Turtle) at the top.
 */
function vocabularyCompletion(language: EditorLanguage) {
  return (context: CompletionContext): CompletionResult | null => {
    const word = context.matchBefore(/[A-Za-z][\w.-]*:[\w.-]*|[A-Za-z][\w-]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const text = context.state.doc.toString();
    const have = declared(text);
    const colon = word.text.indexOf(':');
    const options: Completion[] = [];
    const declare = (prefix: string) => {
      const iri = vocab.prefixes[prefix];
      if (!iri || have.has(prefix)) return undefined;
      if (language === 'sparql') return `PREFIX ${prefix}: <${iri}>\n`;
      if (language === 'turtle') return `@prefix ${prefix}: <${iri}> .\n`;
      return undefined;
    };
    const apply = (label: string, prefix: string) => (view: EditorView, _c: Completion, from: number, to: number) => {
      const line = declare(prefix);
      const changes = [{ from, to, insert: label }];
      if (line) changes.push({ from: 0, to: 0, insert: line });
      view.dispatch({ changes, selection: { anchor: from + label.length + (line?.length ?? 0) } });
    };
    if (colon < 0) {
      for (const [p, iri] of Object.entries(vocab.prefixes)) {
        if (p.startsWith(word.text.toLowerCase())) options.push({ label: `${p}:`, type: 'namespace', detail: iri, apply: apply(`${p}:`, p) });
      }
    } else {
      const prefix = word.text.slice(0, colon);
      for (const t of vocab.terms) {
        if (t.prefix === prefix) options.push({ label: `${t.prefix}:${t.local}`, type: /^[A-Z]/.test(t.local) ? 'class' : 'property', detail: t.label, apply: apply(`${t.prefix}:${t.local}`, prefix) });
      }
    }
    return options.length ? { from: word.from, options, validFor: /^[\w.:-]*$/ } : null;
  };
}

export interface Editor {
  view: EditorView;
  text(): string;
  setText(text: string): void;
  /** Marks a problem at a 1-based line and column (or the whole text); empty clears. */
  mark(problems: Array<{ line?: number; column?: number; message: string; term?: string }>): void;
}

export function createEditor(parent: HTMLElement, options: { language: EditorLanguage; doc: string; label: string; onChange?: () => void; onRun?: () => void }): Editor {
  const extensions: Extension[] = [
    basicSetup,
    languages[options.language](),
    EditorView.cspNonce.of(cspNonce()),
    EditorView.contentAttributes.of({ 'aria-label': options.label }),
    lintGutter(),
    autocompletion({ override: [vocabularyCompletion(options.language)], icons: false }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) options.onChange?.();
    }),
  ];
  if (options.onRun) {
    const run = options.onRun;
    extensions.unshift(keymap.of([{ key: 'Mod-Enter', run: () => (run(), true) }]));
  }
  const view = new EditorView({ parent, state: EditorState.create({ doc: options.doc, extensions }) });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    mark(problems) {
      const doc = view.state.doc;
      const diagnostics: Diagnostic[] = problems.map((p) => {
        let from = 0;
        let to = doc.length;
        if (p.line !== undefined && p.line >= 1 && p.line <= doc.lines) {
          const line = doc.line(p.line);
          from = Math.min(line.to, line.from + Math.max(0, (p.column ?? 1) - 1));
          to = p.column !== undefined ? Math.min(line.to, Math.max(from + 1, wordEnd(line.text, from - line.from) + line.from)) : line.to;
          if (to <= from) {
            from = line.from;
            to = line.to;
          }
        } else if (p.term) {
          const at = doc.toString().indexOf(p.term);
          if (at >= 0) {
            from = at;
            to = at + p.term.length;
          }
        }
        return { from, to, severity: 'error', message: p.message };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
  };
}

function wordEnd(text: string, at: number): number {
  const m = /^[^\s;,.(){}[\]]+/.exec(text.slice(at));
  return at + (m ? m[0].length : 1);
}
