import { describe, expect, it } from 'vitest';
import { actuationGraph, ActuationRecorder } from '../../hub/downlink/actuations.ts';
import type { CommandRecord, CommandStatus } from '../../hub/downlink/types.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';

const BASE = 'http://127.0.0.1:1';

/** A store that counts inserts and keeps them (the recorder's one dependency). */
class CountingStore extends MemoryQuadStore {
  inserts = 0;
  override insert(nquads: string, graph?: string): Promise<void> {
    this.inserts += 1;
    return super.insert(nquads, graph);
  }
}

function command(id: string, durable: boolean): CommandRecord {
  const at = '2026-12-03T12:00:00.000Z';
  return { id: `urn:uuid:${id}`, thingId: 'urn:dev:robot', action: 'movel', input: { pose: [0.1, 0.2, 0.3, 0, 3.14, 0] }, status: 'QUEUED', history: [{ status: 'QUEUED', at, evidence: 'accepted' }], submittedAt: at, expiresAt: at, attempts: 0, ...(durable ? {} : { durable: false as const }) };
}

function step(r: ActuationRecorder, c: CommandRecord, status: CommandStatus, at: string): void {
  const entry = { status, at, evidence: `went ${status}` };
  c.status = status;
  c.history.push(entry);
  r.record(c, entry, false);
}

async function states(store: MemoryQuadStore, c: CommandRecord): Promise<string[]> {
  const rows = await store.select(`PREFIX hub: <https://w3id.org/wot-hub#> SELECT ?status ?seq WHERE { GRAPH <${actuationGraph(BASE, c.thingId)}> { <${c.id}> a <http://www.w3.org/ns/sosa/Actuation> ; hub:state ?s . ?s hub:status ?status ; hub:sequence ?seq } } ORDER BY ?seq`);
  return rows.map((b) => `${b.seq!.value}:${b.status!.value}`);
}

describe('ActuationRecorder', () => {
  it('writes a durable command at each state, and a stream command once, when it ends, with its final state', async () => {
    const store = new CountingStore();
    const rec = new ActuationRecorder(store, BASE);
    const durable = command('00000000-0000-4000-8000-000000000001', true);
    rec.record(durable, durable.history[0]!, true);
    step(rec, durable, 'SENT', '2026-12-03T12:00:00.010Z');
    step(rec, durable, 'DELIVERED', '2026-12-03T12:00:00.020Z');
    await rec.flushed();
    expect(store.inserts).toBe(3);
    expect(await states(store, durable)).toEqual(['0:QUEUED', '1:SENT', '2:DELIVERED']);

    const stream = command('00000000-0000-4000-8000-000000000002', false);
    rec.record(stream, stream.history[0]!, true);
    step(rec, stream, 'SENT', '2026-12-03T12:00:00.030Z');
    step(rec, stream, 'ACCEPTED', '2026-12-03T12:00:00.031Z');
    await rec.flushed();
    expect(store.inserts).toBe(3); // not ended: nothing written yet
    expect(await states(store, stream)).toEqual([]);
    step(rec, stream, 'DELIVERED', '2026-12-03T12:00:00.040Z');
    await rec.flushed();
    expect(store.inserts).toBe(4);
    expect(await states(store, stream)).toEqual(['3:DELIVERED']);
    const input = await store.select(`SELECT ?r WHERE { GRAPH ?g { <${stream.id}> <http://www.w3.org/ns/sosa/hasSimpleResult> ?r } }`);
    expect(JSON.parse(input[0]!.r!.value)).toEqual(stream.input);
  });
});
