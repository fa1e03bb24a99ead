// W3C SPARQL 1.1 Protocol, Graph Store Protocol and Service Description tests as real HTTP exchanges with a listening hub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Parser, Store, type Quad } from 'n3';
import { DEFAULT_GRAPH } from '../../../hub/store/quad-store.ts';
import { baseUrlOf, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { loadTests, SUITE_DIR, type ManifestTest } from './manifest.ts';
import { fileAsNTriples } from './runner.ts';
import { checkResponse, exchanges } from './http-exchange.ts';
import { KNOWN_FAILURES } from './known-failures.ts';

/** The manifests address the endpoints as /sparql/ and /gsp; the hub serves /sparql and /graph-store. */
function hubPath(path: string): string {
  if (path.startsWith('/sparql/')) return `/sparql${path.slice('/sparql/'.length).replace(/^(?=[^?])/, '/')}`.replace('/sparql/?', '/sparql?');
  if (path.startsWith('/gsp')) return `/graph-store${path.slice('/gsp'.length)}`;
  return path;
}

let hub: TestHub;
let base: string;
beforeAll(async () => {
  hub = await startTestHub({}, { listen: true });
  base = baseUrlOf(hub);
});
afterAll(async () => {
  await hub?.stop();
});

async function runExchanges(t: ManifestTest): Promise<string[]> {
  await hub.store.update('DROP ALL');
  for (const f of t.data) await hub.store.insert(fileAsNTriples(f.file), f.name ?? DEFAULT_GRAPH);
  const vars = new Map<string, string>();
  const problems: string[] = [];
  for (const ex of exchanges(t.store, t.node)) {
    let path = hubPath(ex.path);
    let body = ex.body;
    for (const [k, v] of vars) {
      path = path.split(k).join(v);
      body = body?.split(k).join(v);
    }
    const res = await fetch(`${base}${path}`, {
      method: ex.method,
      headers: { ...ex.headers, authorization: hub.bearer },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    problems.push(...checkResponse(ex, res.status, res.headers, text, `${base}${path}`));
    if (ex.expect.location) {
      const loc = res.headers.get('location');
      if (!loc) problems.push(`${ex.method} ${ex.path}: no Location header`);
      else vars.set(ex.expect.location, loc);
    }
    if (problems.length) break;
  }
  return problems;
}

for (const manifest of ['protocol/manifest.ttl', 'graph-store-protocol/manifest.ttl']) {
  const tests = loadTests(`${SUITE_DIR}/${manifest}`);
  const counts = { passed: 0, failed: 0, known: 0 };
  describe(manifest, () => {
    afterAll(() => {
      console.log(`[sparql11] ${manifest}: ${counts.passed} passed, ${counts.known} known failures, ${counts.failed} unexpected failures, 0 skipped (of ${tests.length})`);
    });
    for (const t of tests) {
      it(`${t.id} ${t.name}`, async () => {
        const problems = await runExchanges(t);
        const known = KNOWN_FAILURES[`${manifest.split('/')[0]}/${t.iri.split('#').pop()}`];
        if (known) {
          counts[problems.length ? 'known' : 'passed']++;
          expect(problems.length, `${t.id} now passes: remove it from KNOWN_FAILURES`).toBeGreaterThan(0);
          return;
        }
        counts[problems.length ? 'failed' : 'passed']++;
        expect(problems).toEqual([]);
      });
    }
  });
}

describe('service-description/manifest.ttl', () => {
  const SD = 'http://www.w3.org/ns/sparql-service-description#';
  const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
  const describeEndpoint = async () => {
    const res = await fetch(`${base}/sparql`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { res, store: new Store(new Parser({ baseIRI: `${base}/sparql` }).parse(text) as Quad[]) };
  };

  it('returns-rdf: GET on the endpoint returns RDF', async () => {
    const { res, store } = await describeEndpoint();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/turtle/);
    expect(store.size).toBeGreaterThan(0);
  });

  it('has-endpoint-triple: sd:endpoint names the endpoint URL', async () => {
    const { store } = await describeEndpoint();
    const services = store.getSubjects(RDF_TYPE, `${SD}Service`, null);
    expect(services).toHaveLength(1);
    expect(store.getObjects(services[0]!, `${SD}endpoint`, null).map((o) => o.value)).toEqual([`${base}/sparql`]);
  });

  it('conforms-to-schema: languages, formats and dataset use the sd: vocabulary', async () => {
    const { store } = await describeEndpoint();
    const service = store.getSubjects(RDF_TYPE, `${SD}Service`, null)[0]!;
    const langs = store.getObjects(service, `${SD}supportedLanguage`, null).map((o) => o.value);
    expect(langs.sort()).toEqual([`${SD}SPARQL11Query`, `${SD}SPARQL11Update`]);
    for (const f of store.getObjects(service, `${SD}resultFormat`, null)) expect(f.value).toMatch(/^http:\/\/www\.w3\.org\/ns\/formats\//);
    const dataset = store.getObjects(service, `${SD}defaultDataset`, null)[0]!;
    expect(store.getObjects(dataset, RDF_TYPE, null).map((o) => o.value)).toContain(`${SD}Dataset`);
  });
});
