// The hub's mapfiles (mappings/*.ttl) on sample payloads of every ingested type: expected SOSA + NGSI-LD triples.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Parser, Store } from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { describe, expect, it } from 'vitest';
import { compileMapping } from '../../hub/mapping/compile.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// rapper (Debian raptor2-utils) is installed by .ci/run; on a developer machine without it that check is skipped, under CI it runs.
const RUN_RAPPER = spawnSync('rapper', ['--version'], { timeout: 5000 }).error === undefined || process.env.CI === 'true';
const FIXTURES = join(ROOT, 'test/fixtures/mapping');
const SOSA = 'http://www.w3.org/ns/sosa/';
const XSD_DATETIME = 'http://www.w3.org/2001/XMLSchema#dateTime';
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';

const cases = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.message.json'))
  .map((f) => f.replace(/\.message\.json$/, ''));

const plans = new Map<string, ReturnType<typeof compileMapping>>();
function plan(mapfile: string) {
  const hit = plans.get(mapfile);
  if (hit) return hit;
  const compiled = compileMapping(readFileSync(join(ROOT, 'mappings', `${mapfile}.ttl`), 'utf8'), 'turtle', { baseIri: 'http://hub.example/', perMessageOnly: true });
  plans.set(mapfile, compiled);
  return compiled;
}

describe('mappings/*.ttl', () => {
  it('has a sample payload for every mapfile', () => {
    const mapfiles = readdirSync(join(ROOT, 'mappings')).filter((f) => f.endsWith('.ttl')).map((f) => f.slice(0, -4));
    for (const m of mapfiles) expect(cases.some((c) => c.startsWith(`${m}.`)), m).toBe(true);
  });

  it.each(cases)('%s -> expected triples', (name) => {
    const message = JSON.parse(readFileSync(join(FIXTURES, `${name}.message.json`), 'utf8'));
    const got = plan(name.split('.')[0]!).mapMessage(message);
    const want = new Parser({ format: 'application/n-quads' }).parse(readFileSync(join(FIXTURES, `${name}.expected.nq`), 'utf8')) as Quad[];
    expect(got.length).toBeGreaterThan(0);
    expect(isomorphic(got, want)).toBe(true);
  });

  it.each(cases)('%s -> every observation is complete SOSA', (name) => {
    const message = JSON.parse(readFileSync(join(FIXTURES, `${name}.message.json`), 'utf8'));
    const store = new Store(plan(name.split('.')[0]!).mapMessage(message));
    const observations = store.getSubjects(RDF_TYPE, `${SOSA}Observation`, null);
    expect(observations.length).toBeGreaterThan(0);
    for (const o of observations) {
      expect(store.getObjects(o, `${SOSA}madeBySensor`, null).map((t) => t.value)).toEqual([`http://hub.example/things/${encodeURIComponent(message.meta.thingId)}`]);
      expect(store.getObjects(o, `${SOSA}observedProperty`, null)).toHaveLength(1);
      const times = store.getObjects(o, `${SOSA}resultTime`, null);
      expect(times).toHaveLength(1);
      expect(times[0]!.termType === 'Literal' && times[0]!.datatype.value).toBe(XSD_DATETIME);
      const results = [...store.getObjects(o, `${SOSA}hasSimpleResult`, null), ...store.getObjects(o, `${SOSA}hasResult`, null)];
      expect(results.length).toBeGreaterThan(0);
    }
  });

  it.skipIf(!RUN_RAPPER)('are standard Turtle for an independent parser (rapper, raptor2-utils; skipped when it is not installed)', () => {
    for (const f of readdirSync(join(ROOT, 'mappings')).filter((x) => x.endsWith('.ttl'))) {
      const out = execFileSync('rapper', ['-q', '-i', 'turtle', '-o', 'ntriples', join(ROOT, 'mappings', f)], { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
      expect(out.split('\n').filter(Boolean).length, f).toBeGreaterThan(50);
    }
  });

  it('maps nothing for a message without the values a mapfile reads', () => {
    const quads = plan('ngimu-osc').mapMessage({ meta: { thingId: 'n', protocol: 'osc', receivedAt: '2024-01-01T00:00:00Z' }, payload: { address: '/quaternion', args: { w: 1 } } });
    expect(quads.filter((q) => q.object.value === `${SOSA}Observation`)).toHaveLength(0);
  });
});
