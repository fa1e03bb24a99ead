// RML-IO file sources: encodings, compression (with bomb caps), CSVW dialects, XML with XPath; fixtures compared isomorphically.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { Zip, ZipPassThrough } from 'fflate';
import { Parser } from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { describe, expect, it } from 'vitest';
import { MappingError } from '../../hub/errors.ts';
import { mapFile } from '../../hub/mapping/cli.ts';
import { parseCsvDialect } from '../../hub/mapping/csv.ts';
import { decodeText, decompress } from '../../hub/mapping/source-bytes.ts';
import { compileXPath, parseXml } from '../../hub/mapping/xml.ts';

const DIR = resolve(import.meta.dirname, '../fixtures/mapping/rml-io');
const nq = (file: string): Quad[] => new Parser({ format: 'application/n-quads' }).parse(readFileSync(join(DIR, file), 'utf8')) as Quad[];
const MIB = 1024 * 1024;

const ERRORS: Record<string, { code: string; message: RegExp }> = {
  'error-csv-latin1-as-utf8.ttl': { code: 'source-invalid', message: /not valid UTF-8/ },
  'error-gzip-bomb.ttl': { code: 'source-too-large', message: /larger than 1048576 bytes once decompressed/ },
  'error-zip-bomb.ttl': { code: 'source-too-large', message: /larger than 1048576 bytes once decompressed/ },
  'error-xml-dtd.ttl': { code: 'source-invalid', message: /DTD/ },
  'error-xml-xxe.ttl': { code: 'source-invalid', message: /DTD/ },
};

describe('RML-IO fixtures (test/fixtures/mapping/rml-io)', () => {
  const mappings = readdirSync(DIR).filter((f) => f.endsWith('.ttl'));

  it('has the fixtures', () => {
    expect(mappings.length).toBeGreaterThanOrEqual(18);
  });

  it.each(mappings.filter((f) => !f.startsWith('error-')))('%s maps to its expected triples', async (file) => {
    const expectedFile = readdirSync(DIR).includes(file.replace(/\.ttl$/, '.expected.nq')) ? file.replace(/\.ttl$/, '.expected.nq') : 'people.expected.nq';
    const got = await mapFile(join(DIR, file), { maxSourceBytes: MIB });
    expect(got.length).toBeGreaterThan(0);
    expect(isomorphic(got, nq(expectedFile))).toBe(true);
  });

  it.each(mappings.filter((f) => f.startsWith('error-')))('%s is a typed error', async (file) => {
    const want = ERRORS[file]!;
    expect(want).toBeDefined();
    const error = await mapFile(join(DIR, file), { maxSourceBytes: MIB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingError);
    expect(error).toMatchObject({ code: want.code, message: expect.stringMatching(want.message) });
  });
});

describe('decompress', () => {
  it('stops a gzip bomb at the cap, whatever the header claims', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * MIB), { level: 9 });
    expect(bomb.length).toBeLessThan(16 * 1024);
    await expect(decompress(bomb, { compression: 'gzip', maxBytes: MIB })).rejects.toMatchObject({ code: 'source-too-large' });
    expect((await decompress(bomb, { compression: 'gzip', maxBytes: 9 * MIB })).length).toBe(8 * MIB);
  });

  it('stops a zip bomb early instead of inflating it whole first', async () => {
    // A 1 GiB entry in ~1 MB: a full-flushed 1 MiB deflate block stands alone, so it is repeated 1024 times. Pushed to
    // the inflater in one piece, fflate inflated all of it before any size check (68 s and >2 GiB RSS here).
    const block = deflateRawSync(Buffer.alloc(MIB), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
    const chunks: Uint8Array[] = [];
    const zip = new Zip((err, data) => {
      if (err) throw err;
      chunks.push(data);
    });
    const entry = new ZipPassThrough('bomb.json');
    (entry as unknown as { compression: number }).compression = 8; // the pushed bytes are deflate data already
    zip.add(entry);
    for (let i = 0; i < 1024; i += 1) entry.push(block);
    entry.push(deflateRawSync(Buffer.alloc(0)), true);
    zip.end();
    const bomb = Buffer.concat(chunks);
    expect(bomb.length).toBeLessThan(2 * MIB);
    const t0 = performance.now();
    await expect(decompress(bomb, { compression: 'zip', maxBytes: MIB })).rejects.toMatchObject({ code: 'source-too-large' });
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('refuses data that is not what rml:compression says', async () => {
    for (const compression of ['gzip', 'zip', 'targz', 'tarxz'] as const) {
      await expect(decompress(Buffer.from('plain text, not compressed'), { compression })).rejects.toMatchObject({ code: 'source-invalid' });
    }
  });

  it('caps the raw size too', async () => {
    await expect(decompress(Buffer.alloc(2048), { maxBytes: 1024 })).rejects.toMatchObject({ code: 'source-too-large' });
  });
});

describe('decodeText', () => {
  it('honours byte order marks and declared encodings, and refuses malformed bytes', () => {
    expect(decodeText(Buffer.from([0xff, 0xfe, 0x5a, 0x00, 0xeb, 0x00]), undefined)).toBe('Zë');
    expect(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x5a, 0x00, 0xeb]), 'UTF-8')).toBe('Zë');
    expect(decodeText(Buffer.from([0x00, 0x5a, 0x00, 0xeb]), 'UTF-16')).toBe('Zë'); // no BOM: big-endian (RFC 2781)
    expect(decodeText(Buffer.from([0x5a, 0xeb]), 'ISO-8859-1')).toBe('Zë');
    expect(decodeText(Buffer.from([0x80]), 'ISO-8859-1')).toBe('\u0080'); // ISO-8859-1, not windows-1252
    expect(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x41]), undefined)).toBe('A');
    expect(() => decodeText(Buffer.from([0x5a, 0xeb]), undefined)).toThrow(expect.objectContaining({ code: 'source-invalid' }));
    expect(() => decodeText(Buffer.from([0x41]), 'EBCDIC-NOPE')).toThrow(/unknown encoding/);
  });
});

describe('parseCsvDialect', () => {
  it('reads RFC 4180 by default (quotes, doubled quotes, CRLF, embedded newlines)', () => {
    expect(parseCsvDialect('a,b\r\n"x, ""y""","1\n2"\r\n')).toEqual([{ a: 'x, "y"', b: '1\n2' }]);
  });

  it('applies the CSVW dialect terms', () => {
    expect(parseCsvDialect('a|b\n1|\n', { delimiter: '|', nulls: [''] })).toEqual([{ a: '1', b: null }]);
    expect(parseCsvDialect('x\n#c\na\n1\n', { skipRows: 1, commentPrefix: '#' })).toEqual([{ a: '1' }]);
    expect(parseCsvDialect('a,b\n,\n1,2\n', { skipBlankRows: true })).toEqual([{ a: '1', b: '2' }]);
    expect(parseCsvDialect('a,b\n,\n', {})).toEqual([{ a: '', b: '' }]);
    expect(parseCsvDialect('a, b\n1, 2\n', { skipInitialSpace: true })).toEqual([{ a: '1', b: '2' }]);
    expect(parseCsvDialect(' a , b \n 1 , 2 \n', { trim: 'start' })).toEqual([{ 'a ': '1 ', 'b ': '2 ' }]);
    expect(parseCsvDialect('1,2\n', { header: false })).toEqual([{ 1: '1', 2: '2' }]);
    expect(parseCsvDialect('k,a,b\nz,1,2\n', { skipColumns: 1 })).toEqual([{ a: '1', b: '2' }]);
    expect(parseCsvDialect('a;b~1;2~', { delimiter: ';', lineTerminators: ['~'] })).toEqual([{ a: '1', b: '2' }]);
    expect(parseCsvDialect('a\n"x\\"y"\n', { doubleQuote: false })).toEqual([{ a: 'x"y' }]);
  });

  it('is bounded and typed on malformed tables', () => {
    expect(() => parseCsvDialect('a\n"open\n')).toThrow(expect.objectContaining({ code: 'source-invalid', message: expect.stringMatching(/not closed/) }));
    expect(() => parseCsvDialect('a\n1\n2\n3\n', {}, { maxRows: 2 })).toThrow(/more than 2 rows/);
    expect(() => parseCsvDialect(`${'x,'.repeat(20)}\n`, {}, { maxColumns: 10 })).toThrow(/more than 10 columns/);
    expect(() => parseCsvDialect('a', { delimiter: '' })).toThrow(MappingError);
  });

  it('keeps a __proto__ column as data', () => {
    const [row] = parseCsvDialect('__proto__,b\n1,2\n');
    expect(row!['__proto__']).toBe('1');
    expect(Object.getPrototypeOf(row)).toBeNull();
  });
});

describe('XML and XPath', () => {
  it('iterates and references with namespaces', () => {
    const doc = parseXml('<r xmlns:e="urn:e"><e:i n="1"><e:v>a</e:v><e:v>b</e:v></e:i><e:i n="2"/></r>');
    const items = compileXPath('/r/e:i', { e: 'urn:e' }).nodes(doc);
    expect(items).toHaveLength(2);
    expect(compileXPath('@n').values(items[0]!)).toEqual(['1']);
    expect(compileXPath('e:v', { e: 'urn:e' }).values(items[0]!)).toEqual(['a', 'b']);
    expect(compileXPath('count(e:v)', { e: 'urn:e' }).values(items[0]!)).toEqual(['2']);
  });

  it('refuses DTDs, malformed XML and invalid XPath with typed errors', () => {
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')).toThrow(expect.objectContaining({ code: 'source-invalid' }));
    expect(() => parseXml('<x><y></x>')).toThrow(expect.objectContaining({ code: 'source-invalid' }));
    expect(() => parseXml('')).toThrow(MappingError);
    expect(() => parseXml(`${'<a>'.repeat(300)}${'</a>'.repeat(300)}`)).toThrow(expect.objectContaining({ code: 'source-too-large', message: expect.stringMatching(/nested deeper than 256/) }));
    expect(parseXml(`${'<a>'.repeat(200)}${'</a>'.repeat(200)}`)).toBeDefined();
    expect(() => compileXPath('/a[')).toThrow(expect.objectContaining({ code: 'invalid-mapping' }));
    expect(() => compileXPath('string(/x)').nodes(parseXml('<x/>'))).toThrow(/does not select nodes/);
  });
});
