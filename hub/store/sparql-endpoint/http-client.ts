// HTTP client for an external SPARQL store: basic/digest auth, time limits and the mapping of failures to hub errors.
import { createHash, randomBytes } from 'node:crypto';
import { QueryTimeoutError, ServiceUnavailableError, SparqlSyntaxError, StoreError } from '../../errors.ts';

export interface EndpointRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface EndpointResponse {
  status: number;
  headers: Headers;
  body: string;
}

interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm?: string;
  nc: number;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Parses `Digest realm="x", nonce="y", qop="auth"` (RFC 7616 section 3.3). */
export function parseDigestChallenge(header: string): DigestChallenge | undefined {
  const m = /^\s*Digest\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  }
  if (!params.realm || !params.nonce) return undefined;
  const qop = params.qop?.split(',').map((q) => q.trim()).includes('auth') ? 'auth' : undefined;
  return { realm: params.realm, nonce: params.nonce, qop, opaque: params.opaque, algorithm: params.algorithm, nc: 0 };
}

/**
 * Talks to one SPARQL service. Credentials go as HTTP Basic (RFC 7617) or Digest (RFC 7616, MD5 + qop=auth, as
 * Virtuoso's /sparql-auth asks), whichever the server's challenge names; the last digest challenge is reused with an increasing
 * nonce count so that a steady stream of requests costs one round trip each.
 */
export class EndpointHttpClient {
  private digest?: DigestChallenge;
  /** Set once the server has asked for Basic; until a challenge arrives requests go without credentials. */
  private basic = false;

  constructor(
    private readonly user?: string,
    private readonly password?: string,
  ) {}

  async send(req: EndpointRequest): Promise<EndpointResponse> {
    let res = await this.once(req);
    if (res.status === 401 && this.user !== undefined) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      const digest = parseDigestChallenge(challenge);
      if (digest) {
        this.digest = digest;
        res = await this.once(req);
      } else if (/^\s*Basic\b/i.test(challenge) && !this.basic) {
        this.basic = true;
        res = await this.once(req);
      }
    }
    return res;
  }

  private authorization(method: string, url: string): string | undefined {
    if (this.user === undefined) return undefined;
    const password = this.password ?? '';
    const d = this.digest;
    // Credentials go only in answer to a challenge: Virtuoso answers an unasked-for Basic header with a bare 401.
    if (!d) return this.basic ? `Basic ${Buffer.from(`${this.user}:${password}`).toString('base64')}` : undefined;
    const u = new URL(url);
    const uri = u.pathname + u.search;
    const ha1 = md5(`${this.user}:${d.realm}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    const parts = [`username="${this.user}"`, `realm="${d.realm}"`, `nonce="${d.nonce}"`, `uri="${uri}"`];
    if (d.qop) {
      d.nc++;
      const nc = d.nc.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      parts.push(`qop=auth`, `nc=${nc}`, `cnonce="${cnonce}"`, `response="${md5(`${ha1}:${d.nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`);
    } else {
      parts.push(`response="${md5(`${ha1}:${d.nonce}:${ha2}`)}"`);
    }
    if (d.opaque) parts.push(`opaque="${d.opaque}"`);
    if (d.algorithm) parts.push(`algorithm=${d.algorithm}`);
    return `Digest ${parts.join(', ')}`;
  }

  private async once(req: EndpointRequest): Promise<EndpointResponse> {
    const headers: Record<string, string> = { ...req.headers };
    const auth = this.authorization(req.method, req.url);
    if (auth) headers.authorization = auth;
    const signal = AbortSignal.timeout(req.timeoutMs);
    try {
      const res = await fetch(req.url, { method: req.method, headers, body: req.body, signal });
      const body = req.method === 'HEAD' ? '' : await res.text();
      return { status: res.status, headers: res.headers, body };
    } catch (e) {
      if (signal.aborted) throw new QueryTimeoutError(req.timeoutMs, { cause: e, headers: RETRY });
      throw new ServiceUnavailableError('The external SPARQL store cannot be reached', { cause: e, headers: { 'retry-after': '5' } }, 'store-unavailable');
    }
  }
}

/** Every 503 says when to retry (RFC 9110 §10.2.3): a query that timed out may be sent again at once, more simply. */
const RETRY = { 'retry-after': '1' };

/** Looks for a timeout report in a remote error body (Virtuoso: "SR171: Transaction timed out", "S1T00"). */
const REMOTE_TIMEOUT = /timed? ?out|S1T00|SR171/i;

/**
 * Turns a non-2xx answer into a hub error: 400 -> SparqlSyntaxError with the remote message (and its line when the
 * message names one), remote timeouts -> QueryTimeoutError, 5xx/429 -> 503 'store-unavailable', anything else -> StoreError.
 */
export function remoteError(res: EndpointResponse, timeoutMs: number, what: string): Error {
  const text = res.body.trim().slice(0, 2000);
  if (res.status === 400) {
    const line = /line (\d+)/i.exec(text);
    return new SparqlSyntaxError(text || `The external store rejected the ${what}`, line ? { line: Number(line[1]), column: 1 } : undefined);
  }
  if (REMOTE_TIMEOUT.test(text) && (res.status >= 500 || res.status === 408)) return new QueryTimeoutError(timeoutMs, { headers: RETRY });
  if (res.status >= 500 || res.status === 429) {
    // The remote's own Retry-After (seconds) when it gives one.
    const retry = /^\d{1,6}$/.test(res.headers.get('retry-after') ?? '') ? res.headers.get('retry-after')! : '5';
    return new ServiceUnavailableError('The external SPARQL store failed', { cause: new Error(`${res.status}: ${text}`), headers: { 'retry-after': retry } }, 'store-unavailable');
  }
  return new StoreError(`The external SPARQL store answered ${res.status} to a ${what}`, { cause: new Error(text) });
}
