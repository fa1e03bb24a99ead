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
    for (const g of engine.namedGraphs()) {
      const text = g.blank ? engine.dumpBlankGraph(g.value) : engine.dumpGraph(g.value);
      if (text) take(asQuads(text, g.blank ? `_:${g.value}` : `<${g.value}>`));
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

/** A snapshot piece Oxigraph refused: where it starts in the file (recover.ts reports it as a corrupt store file). */
export class SnapshotParseError extends Error {
  override name = 'SnapshotParseError';
  constructor(readonly path: string, readonly offset: number, readonly reason: string) {
    super(`snapshot ${path} does not parse in the piece at byte ${offset}: ${reason}`);
  }
}

/**
 * Reads `path` (bytes `start` to `end`) in line-aligned pieces of about `chunkBytes`, calling `each` with each piece
 * (valid until the next) and its offset in the file.
 */
export function eachPiece(path: string, chunkBytes: number, each: (piece: Buffer, offset: number) => void, start = 0, end = Infinity): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(chunkBytes, 64));
    // The start of a line longer than a piece, kept as the pieces read (joined once, when its newline comes: a line of
    // n pieces costs n, not n squared).
    let carry: Buffer[] = [];
    let offset = start;
    let at = start;
    for (;;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n === 0) break;
      at += n;
      const read = buf.subarray(0, n);
      const last = read.lastIndexOf(NL);
      if (last < 0) {
        carry.push(Buffer.from(read));
        continue;
      }
      const data = carry.length ? Buffer.concat([...carry, read]) : read;
      const cut = data.length - (n - last - 1);
      each(data.subarray(0, cut), offset);
      offset += cut;
      carry = last + 1 < n ? [Buffer.from(read.subarray(last + 1))] : [];
    }
    if (carry.length) each(Buffer.concat(carry), offset);
  } finally {
    closeSync(fd);
  }
}

/** Offset of the marker line in a line-aligned piece (at its start or right after a newline), or -1. */
export function markerAt(piece: Buffer): number {
  if (piece.subarray(0, MARKER.length).equals(MARKER)) return 0;
  const i = piece.indexOf(NL_MARKER);
  return i < 0 ? -1 : i + 1;
}

const BLANK = Buffer.from('_:');

/**
 * Loads a snapshot file into `engine` in one pass: pieces without `_:` in pieces of about `chunkBytes` (a piece without
 * blank nodes loads the same however it is cut), and everything that may hold a blank node - the section after the
 * marker, or in a file without the marker any piece with `_:` - in one call at the end, so blank nodes keep their
 * identity. Throws SnapshotParseError for a piece Oxigraph refuses.
 */
export function loadSnapshotFile(engine: OxigraphEngine, path: string, chunkBytes = 1 << 20): void {
  const rest: Buffer[] = [];
  let restAt = -1;
  let inBlank = false;
  const load = (bytes: Uint8Array, offset: number): void => {
    try {
      engine.load(bytes);
    } catch (e) {
      // A trap is the worker's to handle (it ends the thread), not a damaged file.
      if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) throw e;
      throw new SnapshotParseError(path, offset, (e as Error).message);
    }
  };
  const keep = (bytes: Buffer, offset: number): void => {
    if (restAt < 0) restAt = offset;
    rest.push(Buffer.from(bytes));
  };
  eachPiece(path, chunkBytes, (piece, offset) => {
    if (inBlank) return keep(piece, offset);
    const at = markerAt(piece);
    const plain = at < 0 ? piece : piece.subarray(0, at);
    if (plain.includes(BLANK)) keep(plain, offset);
    else if (plain.length) load(plain, offset);
    if (at < 0) return;
    inBlank = true;
    keep(piece.subarray(at + MARKER.length), offset + at + MARKER.length);
  });
  const blank = Buffer.concat(rest);
  if (blank.length) load(blank, restAt);
}
