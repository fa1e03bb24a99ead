// Parsing a mapfile (Turtle or YARRRML) into an n3 Store with the legacy vocabularies rewritten to RML-Core.
import { createRequire } from 'node:module';
import { DataFactory, Parser, Store } from 'n3';
import type { Quad, Term } from '@rdfjs/types';
import { MappingError } from '../errors.ts';
import { normaliseIri } from './vocab.ts';
import { iriProblem } from './iri.ts';

const { quad, namedNode } = DataFactory;

export type MappingFormat = 'turtle' | 'yarrrml';

export interface ParsedMapping {
  store: Store;
  /** Whether legacy (rr:/rml-legacy:/ql:) terms were used: their references yield plain strings, not natural types. */
  legacy: boolean;
  /** The document's @base / BASE, when it declares one. */
  documentBase?: string;
  /** The normalised quads as parsed, when the parser kept them (saves materialising them from the store). */
  quads?: Quad[];
}

/** The media types the authoring API accepts, mapped to a format. */
export function formatOfMediaType(mediaType: string): MappingFormat | undefined {
  const t = mediaType.split(';')[0]!.trim().toLowerCase();
  if (t === 'text/turtle' || t === 'application/x-turtle') return 'turtle';
  if (t === 'application/yaml' || t === 'text/yaml' || t === 'application/x-yaml' || t === 'text/x-yaml') return 'yarrrml';
  return undefined;
}

/** Parses Turtle; syntax errors become MappingError with line (and the offending token). */
export function parseTurtle(text: string, baseIri?: string): ParsedMapping {
  let quads: Quad[];
  try {
    quads = new Parser({ format: 'text/turtle', baseIRI: baseIri }).parse(text) as Quad[];
  } catch (e) {
    throw turtleSyntaxError(e);
  }
  return { ...normalise(quads), documentBase: documentBase(text, baseIri) };
}

/** The @base / BASE a Turtle document declares (RML-Core: the default base IRI of the mapping), or the given one. */
export function documentBase(text: string, baseIri?: string): string | undefined {
  // Only blanks of the same line before the keyword: `^\s*` under /m restarted at every line start and scanned the
  // whitespace after it, quadratic in a run of blank lines (16,000 newlines: 0.7 s; 1 MiB of them froze the hub).
  const base = /^[^\S\n\r\u2028\u2029]*(?:@base\s*<([^>]*)>\s*\.|BASE\s*<([^>]*)>)/im.exec(text);
  return base ? (base[1] ?? base[2]) : baseIri;
}

/** An n3 syntax error as a MappingError `mapping-syntax` with line, column and the offending token. */
export function turtleSyntaxError(e: unknown): MappingError {
  type Token = { value?: string; prefix?: string; start?: number; end?: number };
  const err = e as Error & { context?: { line?: number; token?: Token; previousToken?: Token } };
  const { line, token, previousToken } = err.context ?? {};
  // n3 tokens carry their offset within the line: the column of the offending token, or just after the last good one.
  const column = typeof token?.start === 'number' ? token.start + 1 : typeof previousToken?.end === 'number' ? previousToken.end + 1 : undefined;
  const term = token?.value === undefined ? undefined : token.prefix ? `${token.prefix}:${token.value}` : token.value;
  return new MappingError(`Turtle syntax error: ${err.message}${column ? ` (column ${column})` : ''}`, { line, column, term }, { cause: e }, 'mapping-syntax');
}

/**
 * Converts YARRRML (https://rml.io/yarrrml/spec/) with @rmlio/yarrrml-parser into legacy RML quads, then normalises
 * them like any legacy mapfile. Parser complaints (unknown prefixes, bad YAML) are MappingErrors.
 */
export function parseYarrrml(text: string): ParsedMapping {
  const require = createRequire(import.meta.url);
  checkYaml(text, require);
  const Generator = require('@rmlio/yarrrml-parser/lib/rml-generator.js') as new () => {
    convert(yaml: string): Quad[];
    getLogger(): { getAll(): Array<{ level: string; message: string }> };
  };
  // The parser also prints its messages through js-logger; they are returned to the caller instead, so keep it quiet.
  const jsLogger = require(require.resolve('js-logger', { paths: [require.resolve('@rmlio/yarrrml-parser/lib/logger.js')] })) as { setLevel(l: unknown): void; OFF: unknown };
  jsLogger.setLevel(jsLogger.OFF);
  const generator = new Generator();
  let quads: Quad[];
  try {
    quads = generator.convert(text);
  } catch (e) {
    const err = e as Error & { mark?: { line?: number; column?: number } };
    const pos = err.mark ? { line: (err.mark.line ?? 0) + 1, column: (err.mark.column ?? 0) + 1 } : {};
    throw new MappingError(`YARRRML error: ${err.message}`, pos, { cause: e }, 'mapping-syntax');
  }
  const errors = generator.getLogger().getAll().filter((m) => m.level === 'ERROR');
  if (errors.length) throw new MappingError(`YARRRML error: ${errors.map((m) => m.message).join('; ')}`, {}, {}, 'mapping-syntax');
  // The YARRRML parser copies constant IRIs from the YAML as they are (found by the fuzz run: `\` inside one); an IRI the
  // store would refuse is a syntax error of the mapfile, not N-Quads that fail later at every message.
  for (const q of quads) {
    for (const t of [q.subject, q.predicate, q.object, q.graph]) {
      const why = t?.termType === 'NamedNode' && typeof t.value === 'string' ? iriProblem(t.value) : undefined;
      if (why) throw new MappingError(`YARRRML error: <${t.value.slice(0, 200)}> is not an IRI: ${why}`, { term: t.value.slice(0, 200) }, {}, 'mapping-syntax');
    }
  }
  return normalise(quads);
}

/**
 * A linear pre-parse with js-yaml before @rmlio/yarrrml-parser's yamljs sees the text: the YAML must be well formed and
 * must not use anchors or aliases. yamljs takes seconds on alias-heavy text (the fuzz run, seed 13: 16-36 KB of `a: &a
 * [*a, ...` took it 7-18 s), and YARRRML's own spec shares nothing through them (templates and `mappings` keys do that).
 */
function checkYaml(text: string, require: NodeJS.Require): void {
  const yaml = require('js-yaml') as {
    load(t: string, o: { json: boolean; listener: (event: string, state: { anchor: string | null; line: number; position: number; lineStart: number }) => void }): unknown;
  };
  let anchor: { name: string; line: number; column: number } | undefined;
  try {
    yaml.load(text, {
      json: true, // a repeated key overrides, as yamljs does
      listener: (event, state) => {
        if (event === 'close' && state.anchor !== null && !anchor) anchor = { name: state.anchor, line: state.line + 1, column: state.position - state.lineStart + 1 };
      },
    });
  } catch (e) {
    const err = e as Error & { mark?: { line?: number; column?: number }; reason?: string };
    if (err instanceof RangeError) throw e; // nesting past the stack: the bounded parse turns it into mapfile-too-deep
    const pos = err.mark ? { line: (err.mark.line ?? 0) + 1, column: (err.mark.column ?? 0) + 1 } : {};
    throw new MappingError(`YARRRML error: invalid YAML: ${err.reason ?? err.message}`, pos, { cause: e }, 'mapping-syntax');
  }
  if (anchor) {
    throw new MappingError(`YARRRML error: YAML anchors and aliases are not supported (anchor &${anchor.name.slice(0, 50)})`, { line: anchor.line, column: anchor.column }, {}, 'mapping-syntax');
  }
}

export function parseMapping(text: string, format: MappingFormat, baseIri?: string): ParsedMapping {
  return format === 'yarrrml' ? parseYarrrml(text) : parseTurtle(text, baseIri);
}

/** Adds quads to a store with the legacy vocabularies rewritten to RML-Core; says whether any legacy term was seen. */
export function normalise(quads: Quad[], store = new Store(), out?: Quad[]): { store: Store; legacy: boolean } {
  let legacy = false;
  const fix = <T extends Term>(t: T): T => {
    // The YARRRML parser can emit terms without a value for malformed input (found by the fuzz run): refuse them typed.
    if (typeof t?.value !== 'string') throw new MappingError('The mapfile produced an RDF term without a value (malformed YARRRML?)', {}, {}, 'mapping-syntax');
    if (t.termType !== 'NamedNode') return t;
    const n = normaliseIri(t.value);
    if (!n.legacy) return t;
    legacy = true;
    return namedNode(n.iri) as unknown as T;
  };
  for (const q of quads) {
    const n = quad(fix(q.subject), fix(q.predicate), fix(q.object), q.graph);
    store.addQuad(n);
    out?.push(n);
  }
  return { store, legacy };
}
