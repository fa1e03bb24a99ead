// /graph-store: statuses of the Graph Store HTTP Protocol, body syntaxes with relative IRIs, conneg, auth and bad input.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import type { Quad } from 'n3';
import { DEFAULT_GRAPH } from '../../hub/store/quad-store.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { expectIsomorphic, parseAny } from './rdf-parse.ts';

const G = 'http://example.org/graphs/g1/';
const GS = `/graph-store?graph=${encodeURIComponent(G)}`;
const READER = 'reader-token-0123456789';
const TTL = '@prefix ex: <http://example.org/> . ex:a ex:p "one" ; ex:q [ ex:r 1 ] .';

let hub: TestHub;
const send = (o: InjectOptions) => hub.app.inject({ ...o, headers: { authorization: hub.bearer, ...o.headers } });
const put = (url: string, type: string, payload: string | Buffer) => send({ method: 'PUT', url, headers: { 'content-type': type }, payload });
const code = (body: string) => (JSON.parse(body) as { code: string }).code;

beforeAll(async () => {
  hub = await startTestHub({ tokens: [{ token: READER, scopes: ['read'] }] });
});
beforeEach(() => hub.store.update('DROP ALL'));
afterAll(() => hub?.stop());

describe('statuses', () => {
  it('PUT creates (201) then replaces (204); GET returns the graph; DELETE 204 then 404', async () => {
    expect((await put(GS, 'text/turtle', TTL)).statusCode).toBe(201);
    expect((await put(GS, 'text/turtle; charset=utf-8', '<http://example.org/b> <http://example.org/p> "two" .')).statusCode).toBe(204);
    const get = await hub.app.inject({ url: GS });
    expect(get.statusCode).toBe(200);
    expect(get.headers['content-type']).toMatch(/^text\/turtle/);
    expect(await expectIsomorphic(get.body, 'text/turtle', '<http://example.org/b> <http://example.org/p> "two" .')).toBe(true);
    expect((await send({ method: 'DELETE', url: GS })).statusCode).toBe(204);
    const gone = await hub.app.inject({ url: GS });
    expect([gone.statusCode, code(gone.body)]).toEqual([404, 'not-found']);
    expect((await send({ method: 'DELETE', url: GS })).statusCode).toBe(404);
    const head = await hub.app.inject({ method: 'HEAD', url: GS });
    expect([head.statusCode, head.body]).toEqual([404, '']);
  });

  it('POST merges (201 for a new graph, 204 after) and never merges blank nodes of two documents', async () => {
    const doc = '_:b <http://example.org/p> "x" .';
    expect((await send({ method: 'POST', url: GS, headers: { 'content-type': 'application/n-triples' }, payload: doc })).statusCode).toBe(201);
    expect((await send({ method: 'POST', url: GS, headers: { 'content-type': 'application/n-triples' }, payload: doc })).statusCode).toBe(204);
    const rows = await hub.store.select(`SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH <${G}> { ?s ?p ?o } }`);
    expect(rows[0]!.n!.value).toBe('2');
  });

  it('POST to the store itself creates a graph and names it in Location', async () => {
    const r = await send({ method: 'POST', url: '/graph-store', headers: { 'content-type': 'text/turtle' }, payload: TTL });
    expect(r.statusCode).toBe(201);
    const location = String(r.headers.location);
    expect(location.startsWith(`${hub.config.baseUrl}/graph-store/`)).toBe(true);
    const direct = await hub.app.inject({ url: location.slice(hub.config.baseUrl.length) });
    expect(direct.statusCode).toBe(200);
    expect(await expectIsomorphic(direct.body, 'text/turtle', TTL)).toBe(true);
    const indirect = await hub.app.inject({ url: `/graph-store?graph=${encodeURIComponent(location)}` });
    expect(indirect.statusCode).toBe(200);
  });

  it('serves the default graph with ?default', async () => {
    expect((await put('/graph-store?default', 'text/turtle', TTL)).statusCode).toBeLessThan(300);
    const r = await hub.app.inject({ url: '/graph-store?default', headers: { accept: 'application/n-triples' } });
    expect(await expectIsomorphic(r.body, 'application/n-triples', TTL)).toBe(true);
    expect((await send({ method: 'DELETE', url: '/graph-store?default' })).statusCode).toBe(204);
    expect(((await hub.store.getGraph(DEFAULT_GRAPH)) ?? '').trim()).toBe('');
  });
});

describe('body syntaxes and relative IRIs', () => {
  const expected = `<${G}x> <http://example.org/p> <${G}y> .`;
  const bodies: Array<[string, string]> = [
    ['text/turtle', '<x> <http://example.org/p> <y> .'],
    ['application/n-triples', `<${G}x> <http://example.org/p> <${G}y> .`],
    ['application/ld+json', JSON.stringify({ '@id': 'x', 'http://example.org/p': { '@id': 'y' } })],
    [
      'application/rdf+xml',
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/"><rdf:Description rdf:about="x"><ex:p rdf:resource="y"/></rdf:Description></rdf:RDF>',
    ],
  ];
  for (const [type, body] of bodies) {
    it(`reads ${type}, resolving relative IRIs against the graph IRI`, async () => {
      expect((await put(GS, type, body)).statusCode).toBe(201);
      expect(await expectIsomorphic((await hub.store.getGraph(G))!, 'application/n-triples', expected)).toBe(true);
    });
  }

  for (const type of ['text/turtle', 'application/n-triples', 'application/n-quads', 'application/ld+json', 'application/rdf+xml']) {
    it(`answers GET with Accept ${type}`, async () => {
      await put(GS, 'text/turtle', TTL);
      const r = await hub.app.inject({ url: GS, headers: { accept: type } });
      expect(String(r.headers['content-type']).split(';')[0]).toBe(type);
      expect(await expectIsomorphic(r.body, type, TTL)).toBe(true);
    });
  }
});

describe('errors', () => {
  it('answers 400, 406 and 415 with problems, and leaves the graph untouched on a bad PUT', async () => {
    await put(GS, 'text/turtle', TTL);
    const bad = await put(GS, 'text/turtle', '<a> <b> .');
    expect([bad.statusCode, code(bad.body)]).toEqual([400, 'rdf-syntax']);
    expect(await expectIsomorphic((await hub.store.getGraph(G))!, 'application/n-triples', TTL)).toBe(true);
    const cases: Array<[InjectOptions, number, string]> = [
      [{ method: 'PUT', url: GS, headers: { 'content-type': 'text/html' }, payload: '<p>' }, 415, 'unsupported-media-type'],
      [{ method: 'PUT', url: GS, payload: TTL }, 415, 'unsupported-media-type'],
      [{ method: 'PUT', url: GS, headers: { 'content-type': 'application/n-quads' }, payload: '<a:s> <a:p> <a:o> <a:g> .' }, 400, 'rdf-syntax'],
      [{ method: 'PUT', url: GS, headers: { 'content-type': 'text/turtle' }, payload: Buffer.from([0xff, 0xfe, 0x80]) }, 400, 'bad-encoding'],
      [{ url: '/graph-store?graph=not%20an%20iri' }, 400, 'bad-iri'],
      [{ url: `${GS}&default` }, 400, 'bad-request'],
      [{ url: '/graph-store' }, 400, 'bad-request'],
      [{ url: GS, headers: { accept: 'text/html' } }, 406, 'not-acceptable'],
      [{ method: 'PATCH', url: GS, headers: { 'content-type': 'text/turtle' }, payload: TTL }, 405, 'method-not-allowed'],
      [
        { method: 'PUT', url: GS, headers: { 'content-type': 'application/ld+json' }, payload: `${'{"http://example.org/p":'.repeat(1000)}1${'}'.repeat(1000)}` },
        400,
        'rdf-too-deep',
      ],
    ];
    for (const [req, status, c] of cases) {
      const r = await send(req);
      expect([r.statusCode, code(r.body)], JSON.stringify(req).slice(0, 200)).toEqual([status, c]);
    }
    // The store still works after the hostile bodies.
    expect((await hub.app.inject({ url: GS })).statusCode).toBe(200);
  });

  it('needs the write scope for writes; reads are open on loopback', async () => {
    const anon = await hub.app.inject({ method: 'PUT', url: GS, headers: { 'content-type': 'text/turtle' }, payload: TTL });
    expect([anon.statusCode, code(anon.body)]).toEqual([401, 'unauthorized']);
    const reader = await hub.app.inject({ method: 'DELETE', url: GS, headers: { authorization: `Bearer ${READER}` } });
    expect([reader.statusCode, code(reader.body)]).toEqual([403, 'forbidden']);
    await put(GS, 'text/turtle', TTL);
    expect((await hub.app.inject({ url: GS })).statusCode).toBe(200);
  });

  it('reads multipart/form-data POSTs part by part', async () => {
    const boundary = 'XyZ';
    const body = [
      `--${boundary}`,
      'Content-Type: text/turtle',
      '',
      '<http://example.org/a> <http://example.org/p> "1" .',
      `--${boundary}`,
      'Content-Type: application/n-triples',
      '',
      '<http://example.org/a> <http://example.org/p> "2" .',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const r = await send({ method: 'POST', url: GS, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body });
    expect(r.statusCode).toBe(201);
    const quads = await parseAny((await hub.store.getGraph(G))!, 'application/n-triples');
    expect(quads.map((q: Quad) => q.object.value).sort()).toEqual(['1', '2']);
    const truncated = await send({ method: 'POST', url: GS, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body.slice(0, 60) });
    expect([truncated.statusCode, code(truncated.body)]).toEqual([400, 'bad-multipart']);
  });
});
