// The aggregates built from the store's files (latest snapshot + the log after it) when no checkpoint applies: after a
// crash or kill -9 the hub otherwise rebuilt them with hundreds of queries on engines that were themselves still
// loading (store bench, 4M quads: aggregates ready ~37 s after the hub listened). Runs in a worker thread beside the
// store's own recovery (file-build-worker.ts), so it costs no time on the hub's event loop.
//
// The snapshot is read in pieces: its plain section is written graph by graph (snapshot-file.ts), so a graph is
// installed once the pieces stop naming it; the section of quads with blank nodes (read first, it is at the end) is
// merged into the graphs it names. A graph met again after it was installed (a snapshot of another layout) is left
// dirty. The log is then followed record by record as the live decorator follows writes: an insert is scanned and
// ingested, an update, PUT, POST or DELETE marks its graphs dirty, a retention drop drops them. Dirty graphs are rebuilt
// from the store by query as before; anything this cannot follow (an update on unknown graphs, unreadable text, a damaged
// or vanished file) gives up, and the caller rebuilds everything by query as before.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { RecordType, decodeInsert, decodeRecord, readRecords } from '../embedded/log-format.ts';
import { BNODE_SECTION, eachPiece } from '../embedded/snapshot-file.ts';
import { segmentPath, snapshotPath } from '../embedded/store-files.ts';
import { encodeCheckpoint } from './checkpoint.ts';
import { scanNQuads, type ObsRow, type ScanResult } from './scan.ts';
import { AggregateState, mergeRow } from './state.ts';
import { updateTargets } from './update-targets.ts';

/** The mark written into the built state's bytes (decodeCheckpoint is given the same). */
export const FILES_MARK = 'built from the store files';
const PIECE_BYTES = 1 << 20;
const NL_MARKER = Buffer.from(`\n${BNODE_SECTION}`);

export type FileBuild =
  /** `bytes`: the state as checkpoint bytes (FILES_MARK); `dirty`: graphs to rebuild from the store by query. */
  | { kind: 'built'; bytes: Uint8Array; dirty: string[]; snapshotBytes: number; records: number; ms: number }
  | { kind: 'gave-up'; reason: string };

class GiveUp extends Error {}

/** Builds the aggregates of the store in `dir` (the `<dataDir>/store` directory) from its files. Never throws. */
export function buildFromFiles(dir: string, pieceBytes = PIECE_BYTES): FileBuild {
  const started = performance.now();
  try {
    const { snap, segments } = listing(dir);
    const state = new AggregateState();
    state.allDirty = false;
    let snapshotBytes = 0;
    if (snap !== undefined) snapshotBytes = scanSnapshot(snapshotPath(dir, snap), state, pieceBytes);
    let records = 0;
    segments.forEach((seq, i) => (records += replaySegment(segmentPath(dir, seq), state, i === segments.length - 1)));
    // Graphs left dirty (and rows held for them) are the store's to answer: the caller rebuilds them by query.
    const dirty = new Set([...state.dirty, ...state.pending.keys(), ...state.overflowed]);
    state.dirty.clear();
    state.pending.clear();
    state.pendingRows = 0;
    state.overflowed.clear();
    const bytes = encodeCheckpoint(state, FILES_MARK);
    return { kind: 'built', bytes, dirty: [...dirty], snapshotBytes, records, ms: Math.round(performance.now() - started) };
  } catch (e) {
    return { kind: 'gave-up', reason: e instanceof GiveUp ? e.message : `${(e as Error).name}: ${(e as Error).message}` };
  }
}

/** What EmbeddedQuadStore.open() recovers from: the latest snapshot and the segments numbered from it on. */
function listing(dir: string): { snap: number | undefined; segments: number[] } {
  const segments: number[] = [];
  const snapshots: number[] = [];
  for (const name of readdirSync(dir)) {
    let m: RegExpExecArray | null;
    if ((m = /^log-(\d+)\.wal$/.exec(name))) segments.push(Number(m[1]));
    else if ((m = /^snapshot-(\d+)\.nq$/.exec(name))) snapshots.push(Number(m[1]));
  }
  const snap = snapshots.length ? Math.max(...snapshots) : undefined;
  return { snap, segments: segments.filter((s) => snap === undefined || s >= snap).sort((a, b) => a - b) };
}

/** Where the blank-node section starts (the byte after the marker line), or -1 without one. Searched from the end. */
function blankSectionAt(path: string, pieceBytes: number): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(BNODE_SECTION.length);
    if (readSync(fd, head, 0, head.length, 0) === head.length && head.equals(NL_MARKER.subarray(1))) return head.length;
    const buf = Buffer.allocUnsafe(pieceBytes + NL_MARKER.length);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, n).lastIndexOf(NL_MARKER);
      if (i >= 0) return start + i + NL_MARKER.length;
      if (start === 0) break;
      end = start + NL_MARKER.length - 1;
    }
    return -1;
  } finally {
    closeSync(fd);
  }
}

function scanText(text: string): ScanResult {
  const scan = scanNQuads(text);
  if (scan.unreadable) throw new GiveUp('a snapshot line the scan cannot read');
  return scan;
}

function mergeInto(into: ScanResult, g: string, rows: Map<string, ObsRow>): void {
  for (const row of rows.values()) mergeRow(into, g, row);
}

/** Installs the snapshot's graphs into `state`; returns the file's size. */
function scanSnapshot(path: string, state: AggregateState, pieceBytes: number): number {
  const blankAt = blankSectionAt(path, pieceBytes);
  const blank: ScanResult = { graphs: new Map(), unreadable: false };
  if (blankAt >= 0) {
    eachPiece(path, pieceBytes, (piece) => {
      for (const [g, rows] of scanText(piece.toString('utf8')).graphs) mergeInto(blank, g, rows);
    }, blankAt);
  }
  const open: ScanResult = { graphs: new Map(), unreadable: false };
  const installed = new Set<string>();
  const again = new Set<string>();
  const finish = (g: string, rows: Map<string, ObsRow>): void => {
    const extra = blank.graphs.get(g);
    if (extra) {
      mergeInto(open, g, extra);
      blank.graphs.delete(g);
    }
    state.install(g, rows);
    open.graphs.delete(g);
    installed.add(g);
  };
  let size = 0;
  eachPiece(path, pieceBytes, (piece, offset) => {
    size = offset + piece.length;
    const text = piece.toString('utf8');
    const scan = scanText(text);
    for (const [g, rows] of scan.graphs) {
      if (installed.has(g)) again.add(g);
      else if (open.graphs.has(g)) mergeInto(open, g, rows);
      else open.graphs.set(g, rows);
    }
    // A graph no line of this piece names is complete (the plain section is written graph by graph). Finishing one
    // late is harmless; one met again after it was finished is left dirty.
    for (const [g, rows] of open.graphs) if (!scan.graphs.has(g) && !text.includes(`<${g}> .\n`)) finish(g, rows);
  }, 0, blankAt >= 0 ? blankAt - BNODE_SECTION.length : Infinity);
  for (const [g, rows] of open.graphs) finish(g, rows);
  for (const [g, rows] of blank.graphs) if (!installed.has(g)) state.install(g, rows);
  for (const g of again) state.markDirty(g);
  return Math.max(size, blankAt);
}

/** Follows one segment's records as the live decorator follows the writes; returns how many it read. */
function replaySegment(path: string, state: AggregateState, last: boolean): number {
  const buf = readFileSync(path);
  let records = 0;
  const outcome = readRecords(buf, (rec) => {
    records++;
    if (rec.type === RecordType.Insert) {
      const { graph, nquads } = decodeInsert(rec.payload);
      const scan = scanNQuads(nquads, graph);
      if (scan.unreadable) throw new GiveUp('an insert the scan cannot read');
      state.ingest(scan);
      return;
    }
    const r = decodeRecord(rec);
    if (r.type === RecordType.Update) {
      const targets = updateTargets(r.sparql, r.baseIri);
      if (targets === undefined || targets === '*') throw new GiveUp('an update on graphs the aggregates cannot name');
      for (const g of targets) state.markDirty(g);
    } else if (r.type === RecordType.RetentionDrop) for (const g of r.graphs) state.dropped(g);
    else if (r.type !== RecordType.Insert && r.graph !== null) state.markDirty(r.graph);
  });
  // A torn tail is where recovery stops too (it cuts the file there); damage elsewhere stops the store from opening.
  if (outcome.kind === 'corrupt' || (outcome.kind === 'torn' && !last)) throw new GiveUp(`${path}: ${outcome.reason}`);
  return records;
}
