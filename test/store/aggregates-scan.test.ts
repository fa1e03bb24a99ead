// The aggregates' N-Quads scan: the in-place fast path and the full tokenizer read the same rows; literal forms match
// Oxigraph's canonical ones.
import { describe, expect, it } from 'vitest';
import oxigraph from 'oxigraph';
import { scanNQuads } from '../../hub/store/aggregates/scan.ts';
import { canonicalDouble, literalValue, timeValue, XSD_DATETIME, XSD_DECIMAL, XSD_DOUBLE, XSD_INTEGER } from '../../hub/store/aggregates/terms.ts';

const S = 'http://www.w3.org/ns/sosa/';
const X = 'http://www.w3.org/2001/XMLSchema#';
const G = 'http://g.example/1';

const plain = [
  `<http://o/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${S}Observation> <${G}> .`,
  `<http://o/1> <${S}madeBySensor> <http://s/1> <${G}> .`,
  `<http://o/1> <${S}observedProperty> <http://p/t> <${G}> .`,
  `<http://o/1> <${S}hasFeatureOfInterest> <${S}madeBySensor> <${G}> .`,
  `<http://o/1> <${S}resultTime> "2026-01-01T10:00:00.120Z"^^<${X}dateTime> <${G}> .`,
  `<http://o/1> <${S}hasSimpleResult> "a \\"quoted\\" <${S}madeBySensor>" <${G}> .`,
  `<http://o/2> <${S}madeBySensor> <http://s/2> .`,
  `# <http://o/3> <${S}madeBySensor> <http://s/3> <${G}> .`,
  `<http://o/4> <http://x/p> "<${S}madeBySensor> <http://s/9>" <${G}> .`,
].join('\n');

function rows(text: string, graph?: string) {
  const r = scanNQuads(text, graph);
  return { unreadable: r.unreadable, graphs: [...r.graphs].map(([g, m]) => [g, [...m.values()]]) };
}

describe('aggregates scan', () => {
  it('reads the five statements, ignoring literals, comments, objects and the default graph', () => {
    const r = rows(plain);
    expect(r.unreadable).toBe(false);
    expect(r.graphs).toHaveLength(1);
    const [row] = r.graphs[0]![1] as any[];
    expect(row).toMatchObject({ obs: 'http://o/1', typed: true, sensor: 'http://s/1', property: 'http://p/t', bad: false });
    expect(row.time.term.value).toBe('2026-01-01T10:00:00.12Z');
    expect(row.value.term).toEqual({ type: 'literal', value: 'a "quoted" <http://www.w3.org/ns/sosa/madeBySensor>' });
  });

  it('reads the same rows from other layouts (tabs, spaces, escapes) as from the plain one', () => {
    const spaced = plain.replace(/> </g, '>\t <').replace(/ \.$/gm, '  . ');
    expect(rows(spaced)).toEqual(rows(plain));
    const escaped = plain.replace(/madeBySensor> <http:\/\/s\/1>/, 'made\\u0042ySensor> <http://s/1>');
    expect(rows(escaped)).toEqual(rows(plain));
  });

  it('puts triples into the insert graph and marks differing second values bad', () => {
    const text = `<http://o/1> <${S}hasSimpleResult> "1"^^<${X}double> .\n<http://o/1> <${S}hasSimpleResult> "2"^^<${X}double> .\n`;
    const r = rows(text, G);
    expect((r.graphs[0]![1] as any[])[0].bad).toBe(true);
    expect((rows(text.split('\n')[0] + '\n' + text.split('\n')[0], G).graphs[0]![1] as any[])[0].bad).toBe(false);
  });

  it('a line it cannot read makes the scan unreadable', () => {
    expect(rows(`<http://o/1> <${S}madeBySensor> <http://s/1> <${G}>\n`).unreadable).toBe(true);
  });

  it('canonical literal forms are the ones Oxigraph writes back', () => {
    const cases: [string, string][] = [
      ['21.50', XSD_DOUBLE], ['1e3', XSD_DOUBLE], ['1.0E-7', XSD_DOUBLE], ['-0', XSD_DOUBLE], ['123456789012345678', XSD_DOUBLE], ['1e21', XSD_DOUBLE],
      ['0.1', XSD_DOUBLE], ['15', XSD_DOUBLE], ['007', XSD_INTEGER], ['-007', XSD_INTEGER], ['+5', XSD_INTEGER], ['1.50', XSD_DECIMAL], ['-0.0', XSD_DECIMAL],
      ['.5', XSD_DECIMAL], ['1.', XSD_DECIMAL], ['00.100', XSD_DECIMAL],
    ];
    for (let i = 0; i < 200; i++) cases.push([String(Math.round((Math.random() - 0.5) * 1e6) / 10 ** (i % 8)), XSD_DOUBLE]);
    const store = new oxigraph.Store();
    store.load(cases.map(([v, t], i) => `<http://o/${i}> <http://p> "${v}"^^<${t}> .`).join('\n'), { format: 'application/n-triples' });
    for (const [i, [v, t]] of cases.entries()) {
      const [q] = store.match(oxigraph.namedNode(`http://o/${i}`), null, null, null);
      expect(literalValue(v, t, undefined)?.term.value, `${v}^^${t}`).toBe(q!.object.value);
    }
    const times = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.5Z', '2024-02-29T23:59:59.999Z', '1999-12-31T23:59:59Z'];
    store.load(times.map((v, i) => `<http://t/${i}> <http://p> "${v}"^^<${XSD_DATETIME}> .`).join('\n'), { format: 'application/n-triples' });
    for (const [i, v] of times.entries()) {
      const [q] = store.match(oxigraph.namedNode(`http://t/${i}`), null, null, null);
      expect(timeValue(v, XSD_DATETIME)).toEqual({ ms: Date.parse(v), term: { type: 'literal', value: q!.object.value, datatype: XSD_DATETIME } });
    }
    expect(timeValue('2023-02-29T00:00:00Z', XSD_DATETIME)).toBeUndefined();
    expect(timeValue('2026-01-01T00:00:00+01:00', XSD_DATETIME)).toBeUndefined();
    expect(canonicalDouble(1.5e-9)).toBe('0.0000000015');
  });
});
