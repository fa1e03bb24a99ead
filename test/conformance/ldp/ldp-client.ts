// HTTP client helpers of the LDP conformance tests: requests against a listening hub, Link/ETag checks, Turtle parsing.
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';
import { startTestHub, type TestHub } from '../../helpers/hub.ts';
import { MemoryQuadStore } from '../../../hub/store/memory-quad-store.ts';

export const LDP = 'http://www.w3.org/ns/ldp#';
export const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
export const DCT = 'http://purl.org/dc/terms/';
export const EX = 'http://example.com/ns#';
export const TURTLE = 'text/turtle';

/** The suite's default POST body (LdpTest.getDefaultModel). */
export const DEFAULT_TTL = `@prefix dcterms: <${DCT}> . @prefix ldp: <${LDP}> .
<> a <${EX}Bug>, ldp:RDFSource ; <${EX}severity> "High" ; dcterms:title "Another bug to test." ;
   dcterms:description "Issues that need to be fixed." .`;

/** The suite's 1x1 PNG (testPostNonRDFSource posts test.png). */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  bytes: Buffer;
}

export class LdpClient {
  constructor(readonly hub: TestHub, readonly base: string) {}

  async req(method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Res> {
    const full = url.startsWith('http') ? url : `${this.base}${url}`;
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    const res = await fetch(full, {
      method,
      headers: { ...(write ? { authorization: this.hub.bearer } : {}), ...headers },
      body: body === undefined || typeof body === 'string' ? body : new Uint8Array(body),
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, text: bytes.toString('utf8'), bytes };
  }

  /** POSTs the default model (or `body`) to a container and returns the Location (expects 201). */
  async post(container: string, body = DEFAULT_TTL, headers: Record<string, string> = {}): Promise<string> {
    const r = await this.req('POST', container, { 'content-type': TURTLE, ...headers }, body);
    if (r.status !== 201) throw new Error(`POST ${container} -> ${r.status} ${r.text}`);
    return r.headers.get('location')!;
  }

  async turtle(url: string, headers: Record<string, string> = {}): Promise<{ res: Res; quads: Quad[] }> {
    const res = await this.req('GET', url, { accept: TURTLE, ...headers });
    const full = url.startsWith('http') ? url : `${this.base}${url}`;
    return { res, quads: res.status < 300 ? parseTurtle(res.text, full) : [] };
  }
}

export function parseTurtle(text: string, base: string): Quad[] {
  return new n3.Parser({ format: 'text/turtle', baseIRI: base }).parse(text) as Quad[];
}

export function has(quads: Quad[], s: string | null, p: string | null, o: string | null): boolean {
  return quads.some((q) => (s === null || q.subject.value === s) && (p === null || q.predicate.value === p) && (o === null || q.object.value === o));
}

export function count(quads: Quad[], s: string | null, p: string | null, o: string | null = null): number {
  return quads.filter((q) => (s === null || q.subject.value === s) && (p === null || q.predicate.value === p) && (o === null || q.object.value === o)).length;
}

/** Link header members as [target (resolved), rel, anchor?] (RFC 8288), independent of the server's own parser. */
export function links(res: Res, requestUrl: string): Array<{ target: string; rel: string; anchor?: string }> {
  const header = res.headers.get('link') ?? '';
  const out: Array<{ target: string; rel: string; anchor?: string }> = [];
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>(.*)/.exec(part.trim());
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m[2]!)?.[1] ?? '';
    const anchor = /;\s*anchor\s*=\s*"?([^";]+)"?/i.exec(m[2]!)?.[1];
    for (const r of rel.split(/\s+/)) out.push({ target: new URL(m[1]!, requestUrl).href, rel: r, anchor });
  }
  return out;
}

export function hasLink(res: Res, requestUrl: string, target: string, rel: string): boolean {
  return links(res, requestUrl).some((l) => l.target === target && l.rel === rel);
}

export const VALID_ETAG = /^(W\/)?"[^"]*"$/;

export function allow(res: Res): string[] {
  return (res.headers.get('allow') ?? '').split(',').map((s) => s.trim().toUpperCase());
}

export function prefer(kind: 'include' | 'omit', ...prefs: string[]): string {
  return `return=representation; ${kind}="${prefs.map((p) => LDP + p).join(' ')}"`;
}

export interface Subjects {
  basic: string;
  direct: string;
  indirect: string;
  rs: string;
  nr: string;
  nrMeta: string;
}

/**
 * A listening hub with one container of each kind, an LDP-RS and an LDP-NR (what testng.xml configures). The store is
 * the in-process one: these cases test the protocol; test/ldp/durability.test.ts covers the durable embedded store.
 */
export async function setup(): Promise<{ hub: TestHub; c: LdpClient; s: Subjects }> {
  // LDP_CONFORMANCE_STORE=embedded runs the same cases on the durable embedded store.
  const store = process.env.LDP_CONFORMANCE_STORE === 'embedded' ? undefined : new MemoryQuadStore();
  const hub = await startTestHub({}, { listen: true, store });
  const base = hub.config.baseUrl;
  const c = new LdpClient(hub, base);
  const link = (m: string) => ({ link: `<${LDP}${m}>; rel="type"` });
  const basic = await c.post('/ldp/', `<> <${DCT}title> "Basic container under test" .`, { ...link('BasicContainer'), slug: 'basic' });
  const direct = await c.post(
    '/ldp/',
    `<> <${LDP}membershipResource> <> ; <${LDP}hasMemberRelation> <${LDP}member> ; <${DCT}title> "Direct container under test" .`,
    { ...link('DirectContainer'), slug: 'direct' },
  );
  const indirect = await c.post(
    '/ldp/',
    `<> <${LDP}membershipResource> <> ; <${LDP}hasMemberRelation> <${LDP}member> ; <${LDP}insertedContentRelation> <http://xmlns.com/foaf/0.1/primaryTopic> ; <${DCT}title> "Indirect container under test" .`,
    { ...link('IndirectContainer'), slug: 'indirect' },
  );
  const rs = await c.post(basic, DEFAULT_TTL, { slug: 'member' });
  const nrRes = await c.req('POST', basic, { 'content-type': 'image/png', slug: 'non-rdf-source' }, PNG);
  const nr = nrRes.headers.get('location')!;
  const nrMeta = links(nrRes, basic).find((l) => l.rel === 'describedby')!.target;
  // Containers are not empty (testPreferContainmentTriples assumes members).
  await c.post(direct);
  await c.post(indirect);
  return { hub, c, s: { basic, direct, indirect, rs, nr, nrMeta } };
}

/** What the case modules share: the hub, a client and the resources under test. */
export interface Ctx {
  hub: TestHub;
  c: LdpClient;
  s: Subjects;
}
