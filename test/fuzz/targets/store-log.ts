// Fuzz target: the store's write-ahead log: segments (real ones written by WriteLog, torn, corrupt, re-framed) through
// readRecords + decodeRecord and through recover() into an engine, as a store opening after a crash does; the same bytes
// also as a snapshot file (snapshot-file.ts), with snapshots the store writes among the seeds.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubError } from '../../../hub/errors.ts';
import { OxigraphEngine } from '../../../hub/store/oxigraph-engine.ts';
import { decodeRecord, encodeInserts, encodeRecord, encodeJson, HEADER_BYTES, readRecords, RecordType } from '../../../hub/store/embedded/log-format.ts';
import { CorruptLogError, recover } from '../../../hub/store/embedded/recover.ts';
import { WriteLog } from '../../../hub/store/embedded/write-log.ts';
import { writeSnapshotFile } from '../../../hub/store/embedded/snapshot-file.ts';
import { segmentPath } from '../../../hub/store/embedded/store-files.ts';
import type { Rng } from '../prng.ts';
import { type FuzzTarget } from '../target.ts';

let dir: string;
let file: string;
let snapshot: string;

/** Segments written by the store's own WriteLog: inserts (with and without graph), updates, graph store ops, retention. */
async function writtenSegments(): Promise<Uint8Array[]> {
  const d = mkdtempSync(join(tmpdir(), 'hub-fuzz-log-'));
  try {
    const log = new WriteLog({ dir: d, seq: 1, rotateBytes: 1 << 30 });
    await log.open();
    await Promise.all([
      log.append(encodeInserts([{ nquads: '<urn:s> <urn:p> "1" .\n', graph: 'http://127.0.0.1:8080/graphs/observations/t/2024-01-01' }, { nquads: '<urn:s> <urn:p> <urn:o> <urn:g> .\n', graph: null }])),
      log.append(encodeJson(RecordType.Update, { sparql: 'INSERT DATA { <urn:a> <urn:b> "c"@en }', baseIri: 'http://127.0.0.1:8080/' })),
      log.append(encodeJson(RecordType.PutGraph, { graph: 'urn:g2', data: '<urn:x> <urn:y> _:b .\n' })),
      log.append(encodeJson(RecordType.PostGraph, { graph: null, data: '<urn:x> <urn:y> "z" .\n' })),
      log.append(encodeJson(RecordType.DeleteGraph, { graph: 'urn:g2' })),
      log.append(encodeJson(RecordType.RetentionDrop, { graphs: ['http://127.0.0.1:8080/graphs/observations/t/2020-01-01'] })),
    ]);
    await log.close();
    const full = new Uint8Array(readFileSync(segmentPath(d, 1)));
    const engine = new OxigraphEngine();
    recover(engine, { segments: [{ path: segmentPath(d, 1) }] });
    engine.load('_:a <urn:p> _:b <urn:g3> .\n_:b <urn:q> "x\\n y" .\n<urn:t> <urn:p> "in a blank-named graph" _:gb .\n');
    writeSnapshotFile(engine, join(d, 'snapshot-2.nq'));
    const snap = new Uint8Array(readFileSync(join(d, 'snapshot-2.nq')));
    return [full, full.subarray(0, full.length - 3), full.subarray(0, HEADER_BYTES + 4), new Uint8Array(0), snap, snap.subarray(0, snap.length - 5)];
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** One record with a correct CRC: type and payload chosen to reach the decoders, not just the framing checks. */
function frame(rng: Rng): Buffer {
  const type = rng.chance(0.9) ? rng.range(1, 6) : rng.int(256);
  const payloads: Array<() => Buffer> = [
    () => Buffer.alloc(rng.int(3)),
    () => {
      const g = Buffer.from(rng.pick(['', 'urn:g', 'http://a b', '\u0000', 'x'.repeat(300)]));
      const b = Buffer.alloc(2 + g.length + 20);
      b.writeUInt16LE(rng.chance(0.8) ? g.length : rng.int(65536), 0);
      g.copy(b, 2);
      b.write(rng.pick(['<urn:s> <urn:p> "1" .\n', '<a> <b> <c> .', '_:x <urn:p> _:y .\n', '\u0000\u0000']), 2 + g.length);
      return b;
    },
    () => Buffer.from(rng.pick(['{}', 'null', '[]', '1', '"x"', '{"sparql":1}', '{"sparql":"DROP ALL"}', '{"graph":5}', '{"graph":null}',
      '{"graph":"urn:g","data":7}', '{"graphs":"urn:g"}', '{"graphs":[1,null]}', '{"graphs":[]}', '{"__proto__":{"sparql":"x"}}', '{', '\u00ff\u00fe'])),
    () => Buffer.from(Array.from({ length: rng.size(64) }, () => rng.int(256))),
  ];
  const payload = rng.pick(payloads)();
  // The log's own framing (a CRC-valid record whose payload the decoder must judge).
  return encodeRecord(type as RecordType, payload);
}

export const storeLogTarget: FuzzTarget = {
  name: 'store-log',
  description: 'log segment bytes -> readRecords + decodeRecord, recover() from the segment file into an Oxigraph engine, and the bytes as a snapshot file',
  tokens: ['\x00\x00\x00\x00', '\xff\xff\xff\xff', '\x01', '\x06', '\x07'],
  seeds: writtenSegments,
  generate(rng) {
    const frames: Buffer[] = [];
    for (let k = rng.range(1, 6); k > 0; k--) frames.push(frame(rng));
    let out = Buffer.concat(frames);
    if (rng.chance(0.2)) out = out.subarray(0, rng.int(out.length + 1)); // torn tail
    if (rng.chance(0.2)) out = Buffer.concat([out, Buffer.alloc(rng.range(1, 64))]); // zero-filled preallocation
    return new Uint8Array(out);
  },
  generateRatio: 0.5,
  setup() {
    dir = mkdtempSync(join(tmpdir(), 'hub-fuzz-recover-'));
    file = join(dir, 'log-segment.wal');
    snapshot = join(dir, 'snapshot-1.nq');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  },
  run(input) {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    readRecords(buf, (r) => void decodeRecord(r));
    writeFileSync(snapshot, input);
    try {
      recover(new OxigraphEngine(), { snapshot, segments: [] });
    } catch (e) {
      if (!(e instanceof CorruptLogError)) throw e;
    }
    writeFileSync(file, input);
    recover(new OxigraphEngine(), { segments: [{ path: file }] });
  },
  isTypedError: (e) => e instanceof HubError || e instanceof CorruptLogError,
};
