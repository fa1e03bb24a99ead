// Bounded mapfile parsing for uploads: size and triple caps, Turtle parsed in time slices, YARRRML in a worker thread.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Parser, Store } from 'n3';
import type { Quad } from '@rdfjs/types';
import { MappingError, PayloadTooLargeError } from '../errors.ts';
import { compileParsed } from './compile.ts';
import { documentBase, normalise, parseMapping, turtleSyntaxError, type MappingFormat, type ParsedMapping } from './parse.ts';
import type { MappingPlan } from './plan.ts';

export interface MapfileLimits {
  /** Most bytes of mapfile text (UTF-8). */
  maxBytes?: number;
  /** Most triples (Turtle as parsed, YARRRML once converted to RML). */
  maxTriples?: number;
  /** Longest the event loop is held between yields (ms). */
  sliceMs?: number;
  /** Longest a YARRRML conversion may run in its worker (ms). */
  yarrrmlTimeoutMs?: number;
  /** Most characters in one RDF term (an IRI, a literal such as an rml:template). */
  maxTermChars?: number;
  /** Deepest nesting of blank nodes `[`, lists `(` and formulas `{` in Turtle. */
  maxDepth?: number;
}

// The term and depth caps bound the work that cannot be sliced: one template is compiled in one go (60,000 `{a}` in a
// 180 KB template held the loop ~170 ms), and each open `(` or `[` is a parser context on the heap (1 MiB of `(`: 1.5 s
// of parsing, 50-70 ms garbage-collector pauses). Shipped and conformance mapfiles: terms under 1 KiB, depth under 10.
export const DEFAULT_MAPFILE_LIMITS: Required<MapfileLimits> = { maxBytes: 1024 * 1024, maxTriples: 20_000, sliceMs: 10, yarrrmlTimeoutMs: 10_000, maxTermChars: 16 * 1024, maxDepth: 512 };

/** A mapfile over a cap: 413 `mapfile-too-large`, naming the cap and the config key that raises it. */
export class MapfileTooLargeError extends PayloadTooLargeError {
  override name = 'MapfileTooLargeError';
  override readonly code = 'mapfile-too-large';
  constructor(message: string, limit: { maxBytes?: number; maxTriples?: number; maxTermChars?: number; maxDepth?: number }) {
    super(message, { extensions: limit });
  }
}

/** The limits in force: the given ones, each left out or undefined taking its default. */
export function resolveLimits(limits: MapfileLimits = {}): Required<MapfileLimits> {
  const out = { ...DEFAULT_MAPFILE_LIMITS };
  for (const k of Object.keys(out) as Array<keyof MapfileLimits>) if (limits[k] !== undefined) out[k] = limits[k]!;
  return out;
}

// 4 KiB of Turtle is ~150 triples: well under a millisecond of parsing on a quiet machine.
const PIECE = 4 * 1024;

function tooManyTriples(max: number): MapfileTooLargeError {
  return new MapfileTooLargeError(`The mapfile has more than ${max} triples (config maxMapfileTriples)`, { maxTriples: max });
}

function termTooLong(q: Quad, max: number): MapfileTooLargeError {
  const t = [q.subject, q.predicate, q.object, q.graph].find((x) => x.value.length > max)!;
  return new MapfileTooLargeError(`The mapfile holds a ${t.termType === 'Literal' ? 'literal' : 'term'} of ${t.value.length} characters; at most ${max} are accepted`, { maxTermChars: max });
}

function tokenTooLong(length: number, max: number): MapfileTooLargeError {
  return new MapfileTooLargeError(`The mapfile holds a term or comment of more than ${length} characters; at most ${max} are accepted`, { maxTermChars: max });
}

/** Thrown from n3's quad callback to unwind its lexer and parser at once: the failure itself is kept aside. */
const ABORT = Symbol('abort');

function tooDeep(max: number): MapfileTooLargeError {
  return new MapfileTooLargeError(`The mapfile nests blank nodes, lists or formulas more than ${max} deep`, { maxDepth: max });
}

/**
 * Parses RDF text (Turtle or N-Quads) through n3's streaming parser in 4 KiB pieces, giving the event loop back
 * whenever a slice has run `sliceMs`, and stops at the first triple past `maxTriples` without reading the rest.
 * n3's parser keeps its nesting on the heap, so deep `[ [ [` or `( ( (` cannot overflow the stack.
 *
 * n3's lexer holds an unfinished token back and, once it is over 1 KiB, waits for its input to double before trying
 * again: after a 170 KB token the rest of a 260 KB document was parsed in one call (10,000 nested lists, 150 ms; fuzz
 * seed 15, input 291,463). So an unfinished token longer than any accepted term is refused as soon as it is seen, and
 * the quad callback unwinds n3 (throws) at the first triple over a cap or past the depth, wherever in a piece it is.
 */
export async function parseRdfSliced(text: string, format: 'text/turtle' | 'application/n-quads', limits: MapfileLimits = {}, baseIri?: string): Promise<{ store: Store; legacy: boolean; quads: Quad[] }> {
  const { maxTriples, sliceMs, maxTermChars, maxDepth } = resolveLimits(limits);
  const store = new Store();
  let legacy = false;
  let pending: Quad[] = [];
  let count = 0;
  let failure: unknown;
  let onData: ((chunk: string) => void) | undefined;
  let onEnd: (() => void) | undefined;
  const parser = new Parser({ format, baseIRI: baseIri });
  parser.parse(
    {
      on: (event: string, cb: (x?: unknown) => void) => {
        if (event === 'data') onData = cb as (chunk: string) => void;
        else if (event === 'end') onEnd = cb as () => void;
      },
    } as never,
    {
      onQuad: (error: Error | null, q: Quad | null) => {
        if (failure) throw ABORT;
        if (error) failure = turtleSyntaxError(error);
        else if (q) {
          count += 1;
          if (count > maxTriples) failure = tooManyTriples(maxTriples);
          else if (q.object.value.length > maxTermChars || q.subject.value.length > maxTermChars || q.predicate.value.length > maxTermChars || q.graph.value.length > maxTermChars) failure = termTooLong(q, maxTermChars);
          else if (depthOf(parser) > maxDepth) failure = tooDeep(maxDepth);
          else pending.push(q);
          if (failure) throw ABORT;
        }
      },
    } as never,
  );
  const quads: Quad[] = [];
  const flush = (): void => {
    if (pending.length) legacy = normalise(pending, store, quads).legacy || legacy;
    pending = [];
  };
  // n3's rule for when its lexer tries again (N3Lexer 'data' handler): once the input has doubled after a long hold.
  let retryAt = 0;
  let heldBefore = 0;
  let sliceStart = performance.now();
  for (let off = 0; off < text.length && !failure; off += PIECE) {
    // n3 throws (rather than reporting) on some bad input, e.g. a TypeError in _readPrefixIRI for a bad prefix IRI.
    const piece = text.slice(off, off + PIECE);
    try {
      onData!(piece);
    } catch (e) {
      if (e !== ABORT) failure ??= turtleSyntaxError(e);
    }
    flush();
    if (!failure && depthOf(parser) > maxDepth) failure = tooDeep(maxDepth);
    // Right after the lexer has tried, what it holds back is one unfinished token: refused once it is longer than any
    // accepted term can be (the slack covers quotes, a datatype or language tag, a prefix).
    const held = heldBack(parser);
    if (heldBefore + piece.length >= retryAt) {
      if (!failure && held > maxTermChars + 1024) failure = tokenTooLong(held, maxTermChars);
      retryAt = held > N3_MIN_RESCAN_LENGTH ? 2 * held : 0;
    }
    heldBefore = held;
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  if (!failure) {
    try {
      onEnd!();
    } catch (e) {
      if (e !== ABORT) failure ??= turtleSyntaxError(e);
    }
  }
  if (failure) throw failure;
  flush();
  return { store, legacy, quads };
}

// n3 internals, the only measures it has: one context per open `[`, `(` or `{`, and the lexer's unconsumed input.
type N3Internals = { _contextStack?: unknown[]; _lexer?: { _input?: string | null } };

function depthOf(parser: Parser): number {
  return (parser as unknown as N3Internals)._contextStack?.length ?? 0;
}

/** N3Lexer's MIN_RESCAN_LENGTH (n3 2.13): below it, the lexer tries again on every chunk. */
const N3_MIN_RESCAN_LENGTH = 1024;

function heldBack(parser: Parser): number {
  return (parser as unknown as N3Internals)._lexer?._input?.length ?? 0;
}

/** Runs the YARRRML conversion in a worker (time and memory bounded) and returns its RML as N-Quads. */
function convertYarrrml(text: string, maxTriples: number, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./yarrrml-worker.mjs', import.meta.url), {
      execArgv: [],
      workerData: { text, maxTriples },
      resourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 4 },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new MappingError(`The YARRRML conversion took longer than ${timeoutMs} ms`, {}, {}, 'mapfile-too-complex'));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.once('message', (r: { nquads?: string; error?: string; code?: string; line?: number; column?: number; tooLarge?: number }) => {
      done();
      if (r.nquads !== undefined) resolvePromise(r.nquads);
      else if (r.tooLarge !== undefined) reject(tooManyTriples(maxTriples));
      else {
        const pos = r.line === undefined ? {} : { line: r.line, column: r.column };
        reject(new MappingError(r.code === 'mapfile-too-deep' ? `YARRRML error: ${r.error}` : r.error!, pos, {}, r.code ?? 'mapping-syntax'));
      }
    });
    worker.once('error', (e) => {
      done();
      // Out of the worker's heap or stack: the document is too large or too nested to convert.
      reject(new MappingError(`The YARRRML conversion failed: ${e.message}`, {}, { cause: e }, 'mapfile-too-complex'));
    });
  });
}

/**
 * Parses an uploaded mapfile within limits, never holding the event loop for more than about one slice: Turtle is
 * parsed in slices; YARRRML is converted in a worker thread and its RML parsed in slices. Over a cap: 413
 * mapfile-too-large; syntax errors: 422 mapping-syntax with line/column, as parseMapping.
 */
export async function parseMappingBounded(text: string, format: MappingFormat, limits: MapfileLimits = {}, baseIri?: string): Promise<ParsedMapping> {
  const l = resolveLimits(limits);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > l.maxBytes) throw new MapfileTooLargeError(`The mapfile is ${bytes} bytes; at most ${l.maxBytes} are accepted (config mapfileBodyLimit)`, { maxBytes: l.maxBytes });
  if (format === 'turtle') return { ...(await parseRdfSliced(text, 'text/turtle', l, baseIri)), documentBase: documentBase(text, baseIri) };
  const nquads = await convertYarrrml(text, l.maxTriples, l.yarrrmlTimeoutMs);
  return parseRdfSliced(nquads, 'application/n-quads', l);
}

/**
 * The upload path in one synchronous, pure call (no worker, no yields): the byte and triple caps, parseMapping, and
 * compileParsed with the registry's options (hub:CurrentMessage only, strict vocabulary). For the fuzz harness and
 * offline checks; the hub itself uses the sliced parseMappingBounded + compileParsedSliced.
 */
export function compileUploadSync(text: string, format: MappingFormat, options: { baseIri?: string; limits?: MapfileLimits } = {}): MappingPlan {
  const l = resolveLimits(options.limits);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > l.maxBytes) throw new MapfileTooLargeError(`The mapfile is ${bytes} bytes; at most ${l.maxBytes} are accepted (config mapfileBodyLimit)`, { maxBytes: l.maxBytes });
  const parsed = parseMapping(text, format);
  if (parsed.store.size > l.maxTriples) throw tooManyTriples(l.maxTriples);
  return compileParsed(parsed, { baseIri: options.baseIri, perMessageOnly: true, strictVocabulary: true });
}
