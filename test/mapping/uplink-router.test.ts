// UplinkRouter: resolve -> map -> one store insert -> live state; every failure is a counted result, never a throw.
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../hub/errors.ts';
import { compileMapping } from '../../hub/mapping/compile.ts';
import type { MappingPlan } from '../../hub/mapping/plan.ts';
import { LiveState, type MessageEnvelope } from '../../hub/routing/live-state.ts';
import { UplinkRouter } from '../../hub/routing/uplink-router.ts';
import type { QuadStore } from '../../hub/store/quad-store.ts';

const MAPFILE = `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
<http://ex/tm> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ] ;
  rml:subjectMap [ rml:template "http://ex/{$.meta.thingId}" ] ;
  rml:predicateObjectMap [ rml:predicate <http://ex/v> ; rml:objectMap [ rml:reference "$.payload.v" ] ] ,
    [ rml:predicate <http://ex/r> ; rml:objectMap [ rml:template "{$.payload.v}" ; rml:termType rml:BlankNode ] ] .`;

function setup(insert: (nq: string, graph: unknown) => Promise<void> = async () => {}) {
  const inserts: Array<{ nq: string; graph: unknown }> = [];
  const store = { insert: async (nq: string, graph: unknown) => { await insert(nq, graph); inserts.push({ nq, graph }); } } as unknown as QuadStore;
  const live = new LiveState();
  const plans = new Map<string, MappingPlan>([['m', compileMapping(MAPFILE)]]);
  const attach = new Map<string, string>([['t1', 'm'], ['t2', 'gone']]);
  const router = new UplinkRouter({ store, live, plans: { plan: (n) => plans.get(n) }, resolveMapping: (id) => attach.get(id), baseUrl: 'http://hub' });
  return { router, inserts, live };
}
const msg = (thingId: string, payload: Record<string, unknown>, receivedAt = '2024-05-01T10:00:00Z'): MessageEnvelope => ({ meta: { thingId, protocol: 't', receivedAt }, payload });

describe('UplinkRouter', () => {
  it('stores the mapped quads in the Thing observation graph of the day and publishes the message', async () => {
    const { router, inserts, live } = setup();
    const r = await router.ingest(msg('t1', { v: 5 }));
    expect(r).toEqual({ status: 'stored', mapping: 'm', quads: 2, graph: 'http://hub/graphs/observations/t1/2024-05-01', values: {} });
    expect(inserts).toHaveLength(1);
    expect(inserts[0]!.nq).toContain('<http://ex/t1> <http://ex/v> "5"^^<http://www.w3.org/2001/XMLSchema#integer>');
    expect(live.latest('t1')?.payload).toEqual({ v: 5 });
  });

  it('publishes a mapped message to the live state before its store insert is acknowledged, once', async () => {
    let release!: () => void;
    const { router, live } = setup(() => new Promise<void>((r) => (release = r)));
    const heard: unknown[] = [];
    let stored = 0;
    live.subscribe('t1', (m) => heard.push(m.payload));
    live.subscribeStored('t1', () => (stored += 1));
    const pending = router.ingest(msg('t1', { v: 7 }));
    await new Promise((r) => setImmediate(r));
    // A rule (the robot loop) acts on the value now, not one group commit later.
    expect(heard).toEqual([{ v: 7 }]);
    // Readers of the store (SPARQL-defined virtual sensors) are told once the insert is acknowledged.
    expect(stored).toBe(0);
    release();
    expect(await pending).toMatchObject({ status: 'stored' });
    expect(heard).toHaveLength(1);
    expect(stored).toBe(1);
  });

  it('gives each message its own blank nodes', async () => {
    const { router, inserts } = setup();
    await router.ingest(msg('t1', { v: 5 }));
    await router.ingest(msg('t1', { v: 5 }));
    const label = (nq: string) => /_:(\S+)/.exec(nq)![1];
    expect(label(inserts[0]!.nq)).not.toBe(label(inserts[1]!.nq));
  });

  it('counts unmapped, missing, unmappable and unstorable messages without throwing or writing', async () => {
    const { router, inserts } = setup();
    expect(await router.ingest(msg('nobody', { v: 1 }))).toEqual({ status: 'unmapped' });
    expect(await router.ingest(msg('t2', { v: 1 }))).toMatchObject({ status: 'failed', error: { code: 'mapping-missing' } });
    expect(await router.ingest(msg('t1', { v: [1, 2] }))).toMatchObject({ status: 'failed', error: { code: 'mapping-failed' } });
    expect(await router.ingest(msg('t1', { v: 1 }, 'not a time'))).toMatchObject({ status: 'failed', error: { code: 'mapping-failed' } });
    expect(await router.ingest({ payload: {} } as unknown as MessageEnvelope)).toMatchObject({ status: 'failed' });
    expect(inserts).toHaveLength(0);
    const failing = setup(async () => {
      throw new StoreError('disk full');
    });
    expect(await failing.router.ingest(msg('t1', { v: 1 }))).toMatchObject({ status: 'failed', error: { code: 'store-failed' } });
    // A store failure is not the message's fault: failed, but not rejected.
    expect(failing.router.counters).toMatchObject({ failed: 1, rejected: 0, failedByCode: { 'store-failed': 1 } });
    expect(router.counters).toEqual({ received: 5, stored: 0, quads: 0, unmapped: 1, failed: 4, rejected: 4, failedByCode: { 'mapping-missing': 1, 'mapping-failed': 3 } });
  });
});
