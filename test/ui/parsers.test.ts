// The web UI's pure parts in Node: SSE buffer splitting, JSON Pointer location, search patterns, time buckets, CSV.
import { describe, expect, it } from 'vitest';
import { takeEvents } from '../../hub/ui/src/api.ts';
import { locatePointer } from '../../hub/ui/src/json-pointer.ts';
import { literalPattern } from '../../hub/ui/src/pages/things.ts';
import { bucketQuery, bucketStart } from '../../hub/ui/src/chart.ts';
import { isUpdate } from '../../hub/ui/src/sparql-text.ts';
import { toCsv } from '../../hub/ui/src/results.ts';
import { uiCsp } from '../../hub/ui/plugin.ts';
import { Parser } from 'sparqljs';

describe('takeEvents (text/event-stream)', () => {
  it('splits complete events, joins data lines, skips comments, keeps the unfinished rest', () => {
    const r = takeEvents(': observing\n\ndata: 21.5\n\ndata: {"a":\ndata: 1}\r\n\r\ndata: 2');
    expect(r.events).toEqual(['21.5', '{"a":\n1}']);
    expect(r.rest).toBe('data: 2');
    expect(takeEvents(`${r.rest}\n\n`).events).toEqual(['2']);
  });
  it('treats CR, LF and CRLF as line ends and keeps a trailing CR (half a CRLF)', () => {
    expect(takeEvents('data:x\r\rdata: y\n\n').events).toEqual(['x', 'y']);
    const half = takeEvents('data: z\r\n\r');
    expect(half.events).toEqual([]);
    expect(takeEvents(`${half.rest}\n`).events).toEqual(['z']);
    expect(takeEvents('data\n\n').events).toEqual(['']);
  });
});

describe('locatePointer', () => {
  const td = JSON.stringify({ id: 'urn:x', title: 'T', properties: { temperature: { type: 'number' } }, links: [{ href: 'a' }, { href: 'b' }], 'a/b': 1 }, null, 2);
  const lineOf = (needle: string) => td.split('\n').findIndex((l) => l.includes(needle)) + 1;
  it('finds member keys and array elements (1-based line and column)', () => {
    expect(locatePointer(td, '/title')).toEqual({ line: lineOf('"title"'), column: 3, length: 7 });
    expect(locatePointer(td, '/properties/temperature/type')?.line).toBe(lineOf('"type"'));
    expect(locatePointer(td, '/links/1')?.line).toBe(lineOf('"href": "b"') - 1);
    expect(locatePointer(td, '/a~1b')?.line).toBe(lineOf('"a/b"'));
  });
  it('falls back to the deepest member found, and never loops on malformed text', () => {
    expect(locatePointer(td, '/properties/humidity/type')?.line).toBe(lineOf('"properties"'));
    for (const bad of ['{"a": [}', '[}}}', '{"a" "b"', '{{{{', '['.repeat(5000), '{"a":1,,,,"b":2}']) {
      expect(locatePointer(bad, '/a/0/b')).toBeDefined();
    }
  });
});

describe('search patterns and SPARQL helpers', () => {
  it('escapes I-Regexp metacharacters and folds case', () => {
    expect(literalPattern('a.b')).toBe('[aA]\\.[bB]');
    expect(literalPattern('1+$')).toBe('1\\+[$]');
    expect(new RegExp(literalPattern('Field (1)')).test('my fIELD (1) sensor')).toBe(true);
  });
  it('tells updates from queries', () => {
    expect(isUpdate('PREFIX ex: <urn:ex#>\n# INSERT in a comment\nSELECT * WHERE { ?s ?p ?o }')).toBe(false);
    expect(isUpdate('PREFIX ex: <urn:ex#>\nINSERT DATA { ex:a ex:b 1 }')).toBe(true);
    expect(isUpdate('BASE <http://x/> DELETE WHERE { ?s ?p ?o }')).toBe(true);
    expect(isUpdate('ASK { ?s ?p "INSERT" }')).toBe(false);
  });
  it('builds a bucket query that parses, and bucket starts in seconds', () => {
    const q = bucketQuery('urn:dev:x"y', 'temperature', new Date('2026-12-02T00:00:00Z'), 15);
    const parsed = new Parser().parse(q) as { queryType: string; group: unknown[] };
    expect(parsed.queryType).toBe('SELECT');
    expect(parsed.group).toHaveLength(1);
    expect(bucketStart('2026-12-02T10:1')).toBe(Date.parse('2026-12-02T10:10:00Z') / 1000);
    expect(bucketStart('2026-12-02T10:17')).toBe(Date.parse('2026-12-02T10:17:00Z') / 1000);
    expect(bucketStart('2026-12-02T10')).toBe(Date.parse('2026-12-02T10:00:00Z') / 1000);
    expect(bucketStart('2026-12-02')).toBe(Date.parse('2026-12-02T00:00:00Z') / 1000);
  });
  it('writes SPARQL CSV with quoting', () => {
    const csv = toCsv({ head: { vars: ['a', 'b'] }, results: { bindings: [{ a: { type: 'literal', value: 'x,"y"' } }, { b: { type: 'bnode', value: 'b0' } }] } });
    expect(csv).toBe('a,b\r\n"x,""y""",\r\n,_:b0\r\n');
  });
  it('CSP allows no inline script, eval or other origin', () => {
    const csp = uiCsp('abc');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
  });
});
