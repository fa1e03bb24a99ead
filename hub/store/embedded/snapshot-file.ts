// Snapshot files written and read graph by graph, in bounded pieces: no string or buffer holds the whole store.
//
// A snapshot used to be one N-Quads dump of the engine (one JavaScript string) and was read back as one string. V8
// caps a string at 2^29 - 24 characters (~512 MB), which the store passes at ~4M quads: past it every snapshot failed
// ("Cannot create a string longer than 0x1fffffe8 characters", seen in the store benchmark at 1M quads + 1.2M live
// messages), the log was never compacted, and a restart would have replayed everything. Now the worker dumps one graph
// at a time (observation graphs are per Thing per day) and appends it to the file, and recovery reads the file in
// 1 MiB pieces cut at line ends. The layout is unchanged (BNODE_SECTION below): quads without `_:`, the marker, then
// the quads with blank nodes, which load in one call to keep their identity. What is left of the limit: one graph of
// more than ~512 MB of N-Triples (Oxigraph dumps a graph as one string).
import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import type { OxigraphEngine } from '../oxigraph-engine.ts';
import { DEFAULT_GRAPH } from '../quad-store.ts';

/** Marks where a snapshot's quads with blank nodes start (an N-Quads comment: a snapshot is a valid N-Quads document). */
export const BNODE_SECTION = '# quads with blank nodes\n';
const MARKER = Buffer.from(BNODE_SECTION);
const NL_MARKER = Buffer.from(`\n${BNODE_SECTION}`);
const NL = 0x0a;

/** The engine's named graphs, as N-Quads terms (`<iri>` or `_:label`). */
function namedGraphs(engine: OxigraphEngine): string[] {
  const rows = engine.store.query('SELECT DISTINCT ?g WHERE { GRAPH ?g { } }') as unknown as Array<Map<string, { termType: string; value: string }>>;
  const out: string[] = [];
  for (const row of rows) {
    const g = row.get('g');
    if (g) out.push(g.termType === 'BlankNode' ? `_:${g.value}` : `<${g.value}>`);
  }
  return out;
}

/** One graph's triples (N-Triples from Oxigraph: every line ends with " .") as N-Quads lines of `graph`. */
function asQuads(ntriples: string, graph: string): string {
  return ntriples.replace(/ \.\n/g, ` ${graph} .\n`);
}

/**
 * Writes `path` (tmp + fsync + rename; the caller fsyncs the directory): the engine's quads, graph by graph, in the
 * snapshot layout. Only the quads holding blank nodes are gathered in memory (they must end up in one load call).
 */
export function writeSnapshotFile(engine: OxigraphEngine, path: string): { quads: number; bytes: number } {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600); // FILE_MODE of store-files.ts: owner only
  let bytes = 0;
  const blank: string[] = [];
  const put = (text: string): void => {
    const data = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    bytes += data.length;
  };
  const take = (lines: string): void => {
    if (!lines.includes('_:')) return put(lines);
    let plain = '';
    for (let off = 0; off < lines.length; ) {
      const end = lines.indexOf('\n', off) + 1 || lines.length;
      const line = lines.slice(off, end);
      if (line.includes('_:')) blank.push(line);
      else plain += line;
      off = end;
    }
    if (plain) put(plain);
  };
  try {
    take(engine.dumpGraph(DEFAULT_GRAPH));
    for (const g of namedGraphs(engine)) {
      const text = g.startsWith('_:') ? engine.dumpBlankGraph(g.slice(2)) : engine.dumpGraph(g.slice(1, -1));
      if (text) take(asQuads(text, g));
    }
    put(BNODE_SECTION);
    for (const line of blank) put(line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return { quads: engine.size(), bytes };
}

/** Reads `path` in line-aligned pieces of about `chunkBytes`, calling `each` with each piece (valid until the next). */
function eachPiece(path: string, chunkBytes: number, each: (piece: Buffer) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(chunkBytes, 64));
    let carry: Buffer = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const last = data.lastIndexOf(NL);
      if (last < 0) {
        carry = Buffer.from(data);
        continue;
      }
      carry = Buffer.from(data.subarray(last + 1));
      each(data.subarray(0, last + 1));
    }
    if (carry.length) each(carry);
  } finally {
    closeSync(fd);
  }
}

/** Offset of the marker line in a line-aligned piece (at its start or right after a newline), or -1. */
function markerAt(piece: Buffer): number {
  if (piece.subarray(0, MARKER.length).equals(MARKER)) return 0;
  const i = piece.indexOf(NL_MARKER);
  return i < 0 ? -1 : i + 1;
}

/**
 * Loads a snapshot file into `engine`: the plain part in pieces of about `chunkBytes`, the blank-node part in one call.
 * A file without the marker (not written by writeSnapshotFile) is loaded in one call, as its blank nodes may be anywhere.
 */
export function loadSnapshotFile(engine: OxigraphEngine, path: string, chunkBytes = 1 << 20): void {
  let marked = false;
  eachPiece(path, chunkBytes, (piece) => {
    if (!marked && markerAt(piece) >= 0) marked = true;
  });
  const rest: Buffer[] = [];
  let inBlank = !marked;
  eachPiece(path, chunkBytes, (piece) => {
    if (inBlank) return void rest.push(Buffer.from(piece));
    const at = markerAt(piece);
    if (at < 0) return engine.load(piece);
    if (at > 0) engine.load(piece.subarray(0, at));
    inBlank = true;
    rest.push(Buffer.from(piece.subarray(at + MARKER.length)));
  });
  const blank = Buffer.concat(rest);
  if (blank.length) engine.load(blank);
}
