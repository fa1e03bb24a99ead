// Fuzz target: the outbox's segment bytes (real ones written by OutboxLog, torn, re-framed) -> decodeRecords -> prepareBatch, as a restart reads them.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Parser } from 'n3';
import { decodeRecords, OutboxLog } from '../../../hub/outbox/log.ts';
import { prepareBatch } from '../../../hub/outbox/prune.ts';
import type { Rng } from '../prng.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const NQUADS = [
  '<http://e/things/t/observations/m1/temperature> <http://www.w3.org/ns/sosa/observedProperty> <http://e/things/t/properties/temperature> .\n' +
    '<http://e/things/t/observations/m1/temperature> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/sosa/Observation> .\n' +
    '<http://e/things/t/observations/m1/temperature> <http://www.w3.org/ns/sosa/hasSimpleResult> "21.5"^^<http://www.w3.org/2001/XMLSchema#double> .\n' +
    '<http://e/things/t/observations/m1/temperature> <http://www.w3.org/ns/sosa/madeBySensor> <http://e/things/t> .\n' +
    '<http://e/things/t/observations/m1/temperature> <http://www.w3.org/ns/sosa/resultTime> "2026-06-01T08:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n',
  '_:mab_b1 <http://x/p> "1" <http://x/g> .\n',
  '<a> <b> <c> .',
  '',
];

async function writtenSegments(): Promise<Uint8Array[]> {
  const d = mkdtempSync(join(tmpdir(), 'hub-fuzz-outbox-'));
  try {
    const log = new OutboxLog(d);
    await log.open();
    await Promise.all(NQUADS.map((q, i) => log.append(i % 2 ? null : 'http://e/graphs/observations/t/2026-06-01', q, 1_000 + i)));
    await log.close();
    const name = readdirSync(join(d, 'outbox')).find((n) => n.endsWith('.log'))!;
    const full = new Uint8Array(readFileSync(join(d, 'outbox', name)));
    return [full, full.subarray(0, full.length - 5), full.subarray(0, 6), new Uint8Array(0)];
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** One CRC-valid record with a payload chosen to reach the entry checks, not only the framing. */
function frame(rng: Rng): Buffer {
  const payload = Buffer.from(
    rng.pick([
      () => JSON.stringify({ s: rng.int(1000), t: rng.int(1e6), g: rng.pick([null, 'http://g', 5]), q: rng.pick(NQUADS) }),
      () => rng.pick(['{}', 'null', '[]', '{"s":-1,"t":0,"g":null,"q":""}', '{"s":1.5,"t":0,"g":null,"q":""}', '{"s":1,"t":"x","g":null,"q":""}', '{', '\u00ff']),
      () => String.fromCharCode(...Array.from({ length: rng.size(64) }, () => rng.int(256))),
    ])(),
  );
  const head = Buffer.alloc(8);
  head.writeUInt32LE(rng.chance(0.9) ? payload.length : rng.int(2 ** 32), 0);
  head.writeUInt32LE(rng.chance(0.9) ? crc32(payload) : rng.int(2 ** 32), 4);
  return Buffer.concat([head, payload]);
}

export const outboxLogTarget: FuzzTarget = {
  name: 'outbox-log',
  description: 'outbox segment bytes -> decodeRecords (never throws; entries well-formed) -> prepareBatch (unparsable N-Quads counted, not thrown)',
  tokens: ['\x00\x00\x00\x00', '\xff\xff\xff\xff', '{"s":', '"q":', '_:', '<', '> .\n'],
  seeds: writtenSegments,
  generate(rng) {
    const frames: Buffer[] = [];
    for (let k = rng.range(1, 6); k > 0; k--) frames.push(frame(rng));
    let out = Buffer.concat(frames);
    if (rng.chance(0.2)) out = out.subarray(0, rng.int(out.length + 1));
    return new Uint8Array(out);
  },
  generateRatio: 0.5,
  run(input) {
    const { entries, torn } = decodeRecords(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    let end = 0;
    for (const e of entries) {
      if (!Number.isSafeInteger(e.seq) || typeof e.nquads !== 'string' || e.offset !== end) throw new OracleError('malformed entry decoded');
      end += e.length;
    }
    if (!torn && end !== input.length) throw new OracleError('records do not cover the segment');
    if (torn && torn.offset !== end) throw new OracleError('torn offset is not the end of the last good record');
    const out = prepareBatch(entries, { aggregate: entries.length % 2 ? 'minute' : 'none', properties: entries.length % 3 ? undefined : ['temperature'], skolemBase: 'http://edge' });
    for (const nt of out.graphs.values()) {
      for (const q of new Parser({ format: 'N-Triples' }).parse(nt)) {
        if (q.subject.termType === 'BlankNode' || q.object.termType === 'BlankNode') throw new OracleError('a blank node left unskolemised');
      }
    }
  },
};
