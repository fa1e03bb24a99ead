// Helpers of the LDP unit tests: an injected test hub, requests with the admin token, Turtle parsed to compare graphs.
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';

export const LDP = 'http://www.w3.org/ns/ldp#';
export const DCT = 'http://purl.org/dc/terms/';
export const EX = 'http://example.com/ns#';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  rawPayload: Buffer;
}

export class Ldp {
  constructor(readonly hub: TestHub) {}
  get base(): string {
    return this.hub.config.baseUrl;
  }
  path(iri: string): string {
    return iri.startsWith(this.base) ? iri.slice(this.base.length) : iri;
  }
  async req(method: string, url: string, headers: Record<string, string> = {}, payload?: string | Buffer, auth = true): Promise<Res> {
    const r = await this.hub.app.inject({
      method: method as 'GET',
      url: this.path(url),
      headers: { ...(auth ? { authorization: this.hub.bearer } : {}), ...headers },
      payload,
    });
    return { status: r.statusCode, headers: r.headers, body: r.body, rawPayload: r.rawPayload };
  }
  async post(container: string, ttl: string, headers: Record<string, string> = {}): Promise<string> {
    const r = await this.req('POST', container, { 'content-type': 'text/turtle', ...headers }, ttl);
    if (r.status !== 201) throw new Error(`POST -> ${r.status} ${r.body}`);
    return String(r.headers.location);
  }
  async get(iri: string, headers: Record<string, string> = {}): Promise<{ res: Res; quads: Quad[] }> {
    const res = await this.req('GET', iri, { accept: 'text/turtle', ...headers });
    const full = iri.startsWith('http') ? iri : `${this.base}${iri}`;
    return { res, quads: res.status === 200 ? turtle(res.body, full) : [] };
  }
  async etag(iri: string): Promise<string> {
    return String((await this.req('GET', iri)).headers.etag);
  }
}

export function turtle(text: string, base?: string): Quad[] {
  return new n3.Parser({ format: 'text/turtle', baseIRI: base }).parse(text) as Quad[];
}

/** Isomorphism of the triples of `actual` whose subject is `subject` with `expected` (ignores server-managed ldp:). */
export function userGraph(quads: Quad[]): Quad[] {
  return quads.filter((q) => !q.predicate.value.startsWith(LDP) && !(q.predicate.value.endsWith('#type') && q.object.value.startsWith(LDP)));
}

export function sameGraph(actual: Quad[], expected: Quad[]): boolean {
  return isomorphic(actual, expected);
}

/** A hub on the in-process store (fast); durability.test.ts uses the durable embedded store. */
export async function ldpHub(overrides: Record<string, unknown> = {}, listen = false): Promise<Ldp> {
  return new Ldp(await startTestHub(overrides, { store: new MemoryQuadStore(), listen }));
}
