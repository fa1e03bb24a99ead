// Unit tests of the embedded store's on-disk formats: log record framing and the snapshot layout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OxigraphEngine } from '../../hub/store/oxigraph-engine.ts';
import { RecordType, decodeInsert, encodeInserts, encodeJson, readRecords, type LogRecord } from '../../hub/store/embedded/log-format.ts';
import { BNODE_SECTION, eachPiece, loadSnapshotFile, writeSnapshotFile } from '../../hub/store/embedded/snapshot-file.ts';
import { CorruptLogError, recover } from '../../hub/store/embedded/recover.ts';
import { sameRdf } from './rdf-compare.ts';

const EX = 'http://example.org/f/';

describe('log record framing', () => {
  it('round-trips insert and JSON records, with non-ASCII text', () => {
    const buf = Buffer.concat([
      encodeInserts([
        { nquads: `<${EX}s> <${EX}p> "é ✓" .\n`, graph: `${EX}g` },
        { nquads: `<${EX}s> <${EX}p> "x" <${EX}h> .\n`, graph: null },
      ]),
      encodeJson(RecordType.Update, { sparql: 'CLEAR ALL' }),
    ]);
    const seen: LogRecord[] = [];
    expect(readRecords(buf, (r) => seen.push(r))).toEqual({ kind: 'end' });
    expect(seen.map((r) => r.type)).toEqual([RecordType.Insert, RecordType.Insert, RecordType.Update]);
    expect(decodeInsert(seen[0]!.payload)).toEqual({ graph: `${EX}g`, nquads: `<${EX}s> <${EX}p> "é ✓" .\n` });
    expect(decodeInsert(seen[1]!.payload).graph).toBeUndefined();
    expect(JSON.parse(seen[2]!.payload.toString())).toEqual({ sparql: 'CLEAR ALL' });
  });

  it('tells a torn tail from a corrupt record', () => {
    const a = encodeJson(RecordType.Update, { sparql: 'CLEAR ALL' });
    const b = encodeJson(RecordType.Update, { sparql: 'CLEAR DEFAULT' });
    expect(readRecords(Buffer.concat([a, b.subarray(0, 5)]), () => {})).toMatchObject({ kind: 'torn', offset: a.length });
    expect(readRecords(Buffer.concat([a, b.subarray(0, b.length - 1)]), () => {})).toMatchObject({ kind: 'torn', offset: a.length });
    const flipped = Buffer.concat([a, b]);
    flipped[12] = flipped[12]! ^ 1; // first record's payload
    expect(readRecords(flipped, () => {})).toEqual({ kind: 'corrupt', offset: 0, reason: 'CRC mismatch' });
    const lastBad = Buffer.concat([a, b]);
    lastBad[lastBad.length - 1] = lastBad[lastBad.length - 1]! ^ 1; // a damaged last record ending at EOF: torn
    expect(readRecords(lastBad, () => {})).toMatchObject({ kind: 'torn', offset: a.length });
  });
});

describe('snapshot layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is written graph by graph and keeps blank node identity when the plain part is loaded in small pieces', () => {
    const source = new OxigraphEngine();
    let nq = `_:a <${EX}p> _:b <${EX}g> .\n_:b <${EX}q> "shared" .\n<${EX}s> <${EX}r> _:a .\n<${EX}t> <${EX}in> "a blank-named graph" _:gb .\n`;
    nq += `<${EX}s> <${EX}note> "ends like a line . \\n but is one literal" .\n`;
    for (let i = 0; i < 200; i++) nq += `<${EX}s${i}> <${EX}p> "${i}" <${EX}g${i % 3}> .\n`;
    source.load(nq);
    const path = join(dir, 'snapshot-1.nq');
    const written = writeSnapshotFile(source, path);
    expect(written.quads).toBe(205);
    const text = readFileSync(path, 'utf8');
    expect(written.bytes).toBe(Buffer.byteLength(text));
    expect(text.indexOf(BNODE_SECTION)).toBeGreaterThan(0);
    expect(text.slice(0, text.indexOf(BNODE_SECTION))).not.toContain('_:');
    for (const piece of [64, 200, 1 << 20]) {
      const copy = new OxigraphEngine();
      loadSnapshotFile(copy, path, piece); // 64: ~1 quad per load call for the plain part
      expect(copy.size()).toBe(205);
      expect(sameRdf(copy.dump(), nq)).toBe(true);
    }
  });

  it('a damaged snapshot stops recovery with a CorruptLogError naming the file and the piece', () => {
    const path = join(dir, 'snapshot-7.nq');
    const good = `<${EX}s> <${EX}p> "1" <${EX}g> .\n`.repeat(20);
    writeFileSync(path, `${good}<${EX}s> <${EX}p> "unterminated <${EX}g> .\n${BNODE_SECTION}`);
    let error: unknown;
    try {
      recover(new OxigraphEngine(), { snapshot: path, segments: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CorruptLogError);
    expect((error as CorruptLogError).path).toBe(path);
    expect((error as CorruptLogError).offset).toBe(0);
    expect((error as Error).message).toMatch(/snapshot piece/);
  });

  it('loads a file without the marker in one call (its blank nodes may be anywhere)', () => {
    const nq = `_:x <${EX}p> "1" .\n<${EX}s> <${EX}p> _:x .\n<${EX}s> <${EX}p> "2" <${EX}g> .\n`;
    const path = join(dir, 'plain.nq');
    writeFileSync(path, nq);
    const copy = new OxigraphEngine();
    loadSnapshotFile(copy, path, 16);
    expect(copy.size()).toBe(3);
    expect(sameRdf(copy.dump(), nq)).toBe(true);
  });

  it('reads a file in whole lines, a line many pieces long arriving whole, with offsets that add up', () => {
    const long = `<${EX}s> <${EX}p> "${'x'.repeat(70_000)}" .\n`;
    const body = `<${EX}a> <${EX}p> "1" .\n${long}<${EX}b> <${EX}p> "2" .\n<${EX}c> <${EX}p> "no newline at the end"`;
    const path = join(dir, 'long-line.nq');
    writeFileSync(path, body);
    for (const piece of [64, 100, 4096]) {
      const pieces: Array<[string, number]> = [];
      eachPiece(path, piece, (p, offset) => pieces.push([p.toString('utf8'), offset]));
      expect(pieces.map(([t]) => t).join('')).toBe(body);
      let at = 0;
      for (const [t, offset] of pieces) {
        expect(offset).toBe(at);
        at += Buffer.byteLength(t);
      }
      expect(pieces.slice(0, -1).every(([t]) => t.endsWith('\n'))).toBe(true);
      expect(pieces.some(([t]) => t.includes(long))).toBe(true);
      // From an offset inside the file to one before its end.
      const start = body.indexOf('<' + EX + 'b>');
      const part: string[] = [];
      eachPiece(path, piece, (p) => part.push(p.toString('utf8')), start, body.length - 3);
      expect(part.join('')).toBe(body.slice(start, body.length - 3));
    }
  });
});
