// LDP state survives a restart on the durable embedded store: resources, containment, membership, LDP-NR bytes,
// tombstones (a deleted URI stays 410 and is not minted again).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { DCT, EX, LDP, Ldp, sameGraph } from './helpers.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ldp-durable-'));
let hub: TestHub | undefined;
afterAll(async () => {
  await hub?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('LDP on the durable store', () => {
  it('keeps resources, membership, bytes and tombstones across a restart', async () => {
    hub = await startTestHub({}, { dataDir });
    let ldp = new Ldp(hub);
    const dc = await ldp.post('/ldp/', `<> <${LDP}hasMemberRelation> <${EX}item> .`, { link: `<${LDP}DirectContainer>; rel="type"`, slug: 'items' });
    const rs = await ldp.post(dc, `<> a <${EX}Bug> ; <${DCT}title> "durable" .`, { slug: 'bug' });
    const nr = String((await ldp.req('POST', dc, { 'content-type': 'application/octet-stream', slug: 'blob' }, Buffer.from([0, 1, 2, 255]))).headers.location);
    const gone = await ldp.post(dc, `<> <${DCT}title> "deleted" .`, { slug: 'gone' });
    expect((await ldp.req('DELETE', gone)).status).toBe(204);
    // PATCH runs in the store (scratch graph): both syntaxes on the durable store.
    const n3patch = `@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch; solid:where { <> <${DCT}title> ?t }; solid:deletes { <> <${DCT}title> ?t }; solid:inserts { <> <${DCT}title> "patched"; <${EX}was> ?t }.`;
    expect((await ldp.req('PATCH', rs, { 'content-type': 'text/n3' }, n3patch)).status).toBe(204);
    expect((await ldp.req('PATCH', rs, { 'content-type': 'application/sparql-update' }, `INSERT DATA { <> <${EX}n> 1 }`)).status).toBe(204);
    const before = (await ldp.get(dc)).quads;
    const rsBefore = (await ldp.get(rs)).quads;
    expect(rsBefore.some((q) => q.predicate.value === `${EX}was` && q.object.value === 'durable')).toBe(true);
    const etag = await ldp.etag(rs);
    await hub.stop();

    hub = await startTestHub({}, { dataDir });
    ldp = new Ldp(hub);
    expect(sameGraph((await ldp.get(dc)).quads, before)).toBe(true);
    expect((await ldp.get(dc)).quads.some((q) => q.predicate.value === `${EX}item` && q.object.value === rs)).toBe(true);
    expect(await ldp.etag(rs)).toBe(etag);
    expect(sameGraph((await ldp.get(rs)).quads, rsBefore)).toBe(true);
    const bytes = await ldp.req('GET', nr);
    expect([...bytes.rawPayload]).toEqual([0, 1, 2, 255]);
    expect((await ldp.req('GET', gone)).status).toBe(410);
    expect(await ldp.post(dc, `<> <${DCT}title> "again" .`, { slug: 'gone' })).not.toBe(gone);
  });
});
