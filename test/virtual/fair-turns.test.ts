import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const SENSORS = 64;

describe('virtual sensors publishing together', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ logLevel: 'silent' });
    const id = 'urn:test:fair:input';
    await hub.directory.put(id, { '@context': 'https://www.w3.org/2022/wot/td/v1.1', id, title: id, securityDefinitions: { n: { scheme: 'nosec' } }, security: ['n'], properties: { value: { type: 'number', readOnly: true, forms: [{ href: 'http://example.org/v' }] } } } as never);
    for (let i = 0; i < SENSORS; i++) {
      await hub.virtual.put(`fair-${i}`, { inputs: { v: { thing: id, property: 'value' } }, operators: [{ id: 'w', op: 'window', from: 'v', size: 60, aggregates: ['avg'] }], outputs: { average: { from: 'w', select: 'avg' } } });
    }
  }, 60_000);
  afterAll(async () => hub?.stop());

  it('store their outputs a few per turn of the event loop, all of them in order, so I/O is not held behind them', async () => {
    const mapped: string[] = [];
    const unsubscribe = hub.liveState.subscribeAll((m) => {
      if (m.meta.protocol === 'virtual') mapped.push(String(m.meta.thingId));
    });
    const stored = new Set<string>();
    const onOutput = (o: { name: string }) => stored.add(o.name);
    hub.virtual.on('output', onOutput);
    const at = new Date().toISOString();
    hub.liveState.publish({ meta: { thingId: 'urn:test:fair:input', protocol: 'test', receivedAt: at, observedAt: at, messageId: 'fair-1' }, payload: { value: 21.5 } });
    // An I/O callback queued now (a datagram, an fsync completion) runs before most of the 64 outputs are mapped.
    const beforeIo = await new Promise<number>((resolve) => setImmediate(() => resolve(mapped.length)));
    const deadline = Date.now() + 10_000;
    while (stored.size < SENSORS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    unsubscribe();
    hub.virtual.off('output', onOutput);
    expect(stored.size).toBe(SENSORS);
    expect(new Set(mapped).size).toBe(SENSORS);
    expect(beforeIo).toBeLessThanOrEqual(16);
    const rows = await hub.store.select(`SELECT (COUNT(?o) AS ?n) WHERE { GRAPH ?g { ?o <http://www.w3.org/ns/sosa/usedProcedure> ?p } }`);
    expect(Number(rows[0]!.n!.value)).toBeGreaterThanOrEqual(SENSORS);
  });
});
