// SparqlEndpointQuadStore against a real Virtuoso: the QuadStore contract plus the default-graph and batching paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparqlEndpointQuadStore } from '../../hub/store/sparql-endpoint-quad-store.ts';
import { DEFAULT_GRAPH } from '../../hub/store/quad-store.ts';
import { runQuadStoreContract } from './quad-store.contract.ts';
import { sameRdf } from './rdf-compare.ts';
import { startVirtuoso, virtuosoMissing, type VirtuosoServer } from './sparql-endpoint-virtuoso.ts';

const missing = virtuosoMissing();
let server: Promise<VirtuosoServer> | undefined;
/** One Virtuoso for the whole file, started on first use. */
const virtuoso = () => (server ??= startVirtuoso());

async function openStore(v: VirtuosoServer, extra: Partial<ConstructorParameters<typeof SparqlEndpointQuadStore>[0]> = {}) {
  const store = new SparqlEndpointQuadStore({
    queryEndpoint: v.queryEndpoint,
    updateEndpoint: v.updateEndpoint,
    graphStoreEndpoint: v.graphStoreEndpoint,
    user: v.user,
    password: v.password,
    timeoutMs: 20_000,
    ...extra,
  });
  await store.open();
  return store;
}

if (missing) {
  describe.skip(`SparqlEndpointQuadStore on Virtuoso — skipped: ${missing}`, () => {
    it('needs Virtuoso', () => {});
  });
} else {
  afterAll(async () => {
    if (server) await (await server).stop();
  }, 30_000);

  runQuadStoreContract('SparqlEndpointQuadStore (Virtuoso, Graph Store Protocol)', async () => {
    const store = await openStore(await virtuoso());
    return { store, dispose: () => store.close() };
  });

  runQuadStoreContract('SparqlEndpointQuadStore (Virtuoso, Query/Update only)', async () => {
    const store = await openStore(await virtuoso(), { graphStoreEndpoint: undefined });
    return { store, dispose: () => store.close() };
  });

  describe('SparqlEndpointQuadStore on Virtuoso', () => {
    let store: SparqlEndpointQuadStore;
    const G = `http://example.org/virtuoso/${Date.now().toString(36)}/`;
    beforeAll(async () => {
      store = await openStore(await virtuoso());
    }, 90_000);
    afterAll(async () => store?.close());

    it('writes the default graph to a stand-in graph; queries see the union of all graphs (Virtuoso deviation)', async () => {
      await store.putGraph(`${G}named`, `<${G}s> <${G}p> "named" .\n`);
      await store.insert(`<${G}s> <${G}p> "default" .\n`);
      const rows = await store.select(`SELECT ?o WHERE { <${G}s> <${G}p> ?o } ORDER BY ?o`);
      expect(rows.map((r) => r.o!.value)).toEqual(['default', 'named']);
      const inNamed = await store.select(`SELECT ?o WHERE { GRAPH <${G}named> { <${G}s> <${G}p> ?o } }`);
      expect(inNamed.map((r) => r.o!.value)).toEqual(['named']);
      const dflt = (await store.getGraph(DEFAULT_GRAPH))!.split('\n').filter((l) => l.includes(G)).join('\n');
      expect(sameRdf(dflt, `<${G}s> <${G}p> "default" .\n`, 'application/n-triples')).toBe(true);
      await store.update(`INSERT DATA { <${G}s2> <${G}p> "via update" }`);
      const where = await store.select(`SELECT ?g WHERE { GRAPH ?g { <${G}s2> <${G}p> "via update" } }`);
      expect(where.map((r) => r.g!.value)).toEqual(['urn:x-hub:default-graph']);
    });

    it('batches concurrent inserts and makes every one visible once acknowledged', async () => {
      const n = 400;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.insert(`<${G}obs/${i}> <${G}value> "${i}"^^<http://www.w3.org/2001/XMLSchema#integer> <${G}batch/${i % 7}> .\n`),
        ),
      );
      const rows = await store.select(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s <${G}value> ?v } }`);
      expect(Number(rows[0]!.n!.value)).toBe(n);
    });

    it('rejects bad N-Quads for that call only', async () => {
      const good = store.insert(`<${G}ok> <${G}p> "1" <${G}mixed> .\n`);
      await expect(store.insert('<broken')).rejects.toMatchObject({ code: 'decode-failed' });
      await good;
      expect(await store.hasGraph(`${G}mixed`)).toBe(true);
    });
  });
}
