// Fuzz target: the aggregates built from a store's files after a crash (hub/store/aggregates/file-build.ts): one input
// is a snapshot and a log segment (a 4-byte length prefix splits them), written to a directory as the store names them,
// then buildFromFiles with a piece size the input picks (so rows, graphs and the blank-node marker fall across pieces).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint } from '../../../hub/store/aggregates/checkpoint.ts';
import { buildFromFiles, FILES_MARK } from '../../../hub/store/aggregates/file-build.ts';
import { AggregateState } from '../../../hub/store/aggregates/state.ts';
import { encodeInserts, encodeJson, RecordType } from '../../../hub/store/embedded/log-format.ts';
import { writeSnapshotFile } from '../../../hub/store/embedded/snapshot-file.ts';
import { segmentPath, snapshotPath } from '../../../hub/store/embedded/store-files.ts';
import { WriteLog } from '../../../hub/store/embedded/write-log.ts';
import { OxigraphEngine } from '../../../hub/store/oxigraph-engine.ts';
import { observationQuads } from '../../bench/store/sosa-data.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const BASE = 'http://hub.test';
let dir: string | undefined;

const pack = (snap: Uint8Array, wal: Uint8Array): Uint8Array => {
  const out = Buffer.alloc(4 + snap.length + wal.length);
  out.writeUInt32LE(snap.length, 0);
  out.set(snap, 4);
  out.set(wal, 4 + snap.length);
  return out;
};

/** A snapshot and a segment written by the store's own code: observations in named graphs, blank nodes, every record type. */
async function storeSeeds(): Promise<Uint8Array[]> {
  const d = mkdtempSync(join(tmpdir(), 'hub-fuzz-files-'));
  try {
    const engine = new OxigraphEngine();
    for (let k = 0; k < 3; k++) engine.load(observationQuads(BASE, { sensors: 2, observations: 6, days: 1 }, k % 2, k));
    engine.load('_:a <http://www.w3.org/ns/sosa/hasSimpleResult> "1.5"^^<http://www.w3.org/2001/XMLSchema#double> <urn:g3> .\n');
    writeSnapshotFile(engine, snapshotPath(d, 1));
    const snap = new Uint8Array(readFileSync(snapshotPath(d, 1)));
    const log = new WriteLog({ dir: d, seq: 1, rotateBytes: 1 << 30 });
    await log.open();
    const obs = observationQuads(BASE, { sensors: 2, observations: 4, days: 1 }, 1, 7);
    await log.append(encodeInserts([{ nquads: obs, graph: null }]));
    await log.append(encodeJson(RecordType.Update, { sparql: 'INSERT DATA { GRAPH <urn:g4> { <urn:a> <urn:b> "c" } }', baseIri: `${BASE}/` }));
    await log.append(encodeJson(RecordType.PutGraph, { graph: 'urn:g3', data: '<urn:x> <urn:y> _:b .\n' }));
    await log.append(encodeJson(RecordType.DeleteGraph, { graph: 'urn:g4' }));
    await log.append(encodeJson(RecordType.RetentionDrop, { graphs: [`${BASE}/graphs/observations/t/2020-01-01`] }));
    await log.close();
    const wal = new Uint8Array(readFileSync(segmentPath(d, 1)));
    return [pack(snap, wal), pack(snap, new Uint8Array(0)), pack(new Uint8Array(0), wal), pack(snap.subarray(0, snap.length - 7), wal.subarray(0, wal.length - 5))];
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

export const aggregatesFilesTarget: FuzzTarget = {
  name: 'aggregates-file-build',
  description: 'a store directory (snapshot + log segment, mutated) -> buildFromFiles in pieces of 256 B..4 KiB (rows and graphs cut across them); a built state must decode as a checkpoint',
  seeds: storeSeeds,
  tokens: ['# quads with blank nodes\n', ' .\n', '<urn:g3>', '_:b', '<http://www.w3.org/ns/sosa/resultTime>', '\x00\x00\x00\x00', '\x01', '\x06'],
  setup() {
    dir = mkdtempSync(join(tmpdir(), 'hub-fuzz-files-'));
    process.once('exit', () => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  },
  run(input) {
    const buf = Buffer.from(input);
    const split = buf.length >= 4 ? Math.min(buf.readUInt32LE(0), buf.length - 4) : 0;
    const body = buf.subarray(Math.min(4, buf.length));
    const d = dir!;
    writeFileSync(snapshotPath(d, 1), body.subarray(0, split));
    writeFileSync(segmentPath(d, 1), body.subarray(split));
    const piece = 256 << (buf.length ? buf[buf.length - 1]! % 5 : 0);
    // Never throws: files it cannot follow give up (the store then rebuilds the aggregates by query).
    const result = buildFromFiles(d, piece);
    if (result.kind !== 'built') return;
    const refusal = decodeCheckpoint(Buffer.from(result.bytes), FILES_MARK, new AggregateState());
    if (refusal !== undefined) throw new OracleError(`built state does not decode: ${JSON.stringify(refusal)}`);
  },
};
