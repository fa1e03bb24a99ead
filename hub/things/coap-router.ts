// Handles every CoAP request of the hub's CoAP server: TDs, /.well-known/core, property read/observe/write, actions, events.
import { HubError, ServiceUnavailableError } from '../errors.ts';
import type { TokenAuth } from '../http/auth.ts';
import { requesterOf, type ThingInteractions } from './interactions.ts';

/** The parts of a node-coap IncomingMessage the router reads. */
export interface CoapRequest {
  method: string;
  options: Array<{ name: string | number; value: unknown }>;
  headers: Record<string, unknown>;
  payload: Buffer;
  rsinfo?: { address: string; port: number };
  _packet?: { token?: Buffer };
}

/** The parts of a node-coap OutgoingMessage / ObserveWriteStream the router writes. */
export interface CoapResponse {
  code?: string;
  statusCode?: string;
  setOption(name: string, value: unknown): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  on(event: 'finish' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  readonly writableEnded?: boolean;
  readonly destroyed?: boolean;
}

const JSON_TYPE = 'application/json';

/**
 * Replaces node-wot CoapServer.handleRequest, whose failures are unhandled promise rejections (a malformed URI ends the
 * process) and whose observe path writes to an ended response (node-wot issue 1233). Every failure here becomes a CoAP
 * error response (RFC 7252 §5.9.2); observe relations (RFC 7641) each get their own notifications and end when the
 * client resets or stops acknowledging.
 */
export class CoapRouter {
  private readonly relations = new Set<() => void>();
  /** Relations by client endpoint and token, for deregistration with Observe: 1 (RFC 7641 §3.6). */
  private readonly byToken = new Map<string, () => void>();
  private readonly perEndpoint = new Map<string, number>();

  constructor(
    private readonly things: ThingInteractions,
    private readonly auth: TokenAuth,
    private readonly directoryUrl: string,
    private readonly onError: (error: unknown, context: string) => void,
    /** Most observe relations one client endpoint (address and port) may hold; more get 5.03 (RFC 7641 §4.1). */
    private readonly maxPerEndpoint = 64,
  ) {}

  get observeRelations(): number {
    return this.relations.size;
  }

  handle(req: CoapRequest, res: CoapResponse): void {
    let promise: Promise<void>;
    try {
      promise = this.route(req, res);
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.catch((e) => this.fail(res, e));
  }

  /**
   * Ends the observe relation of a client endpoint and token (RFC 7641 §3.6: the client rejected a notification with
   * a Reset). Returns whether there was one.
   */
  cancel(address: string, port: number, tokenHex: string): boolean {
    const end = this.byToken.get(`${address}|${port}|${tokenHex}`);
    end?.();
    return end !== undefined;
  }

  /** Ends every observe relation (server stop). */
  closeAll(): void {
    for (const end of [...this.relations]) end();
  }

  private async route(req: CoapRequest, res: CoapResponse): Promise<void> {
    const path = req.options.filter((o) => o.name === 'Uri-Path').map((o) => String(o.value));
    const query = new URLSearchParams(req.options.filter((o) => o.name === 'Uri-Query').map((o) => String(o.value)).join('&'));
    const token = query.get('access_token');
    const authorization = token ? `Bearer ${token}` : undefined;
    if (path.length === 2 && path[0] === '.well-known' && path[1] === 'core') {
      if (req.method !== 'GET') return this.send(res, '4.05', 'Method Not Allowed');
      return this.send(res, '2.05', this.coreLinks(query.get('rt'), this.mayRead(authorization)), 'application/link-format');
    }
    if (path[0] !== 'wot' || path.length < 2) return this.send(res, '4.04', 'Not Found');
    const id = this.thingId(path[1]!);
    if (path.length === 2) {
      if (req.method !== 'GET') return this.send(res, '4.05', 'Method Not Allowed');
      this.auth.check(authorization, 'read');
      return this.send(res, '2.05', JSON.stringify(this.things.thingDescription(id)), 'application/td+json');
    }
    if (path[2] === 'commands') return this.commands(req, res, id, path, authorization, token ?? undefined);
    if (path.length !== 4) return this.send(res, '4.04', 'Not Found');
    const kind = path[2]!;
    const name = lenientDecode(path[3]!);
    const observe = req.headers.Observe === 0;
    const relationKey = `${req.rsinfo?.address}|${req.rsinfo?.port}|${req._packet?.token?.toString('hex') ?? ''}`;
    if (req.headers.Observe === 1) this.byToken.get(relationKey)?.();
    // invokeaction (POST) and writeproperty (PUT) queue a command: the act scope is checked before the payload is read.
    const queue = async (interaction: 'invokeAction' | 'writeProperty') => {
      this.auth.check(authorization, 'act');
      const format = req.headers['Content-Format'];
      const result = await this.things[interaction](id, name, req.payload, typeof format === 'string' ? format : undefined, requesterOf(token ?? undefined));
      if (result.status === 201 && result.location) {
        // RFC 7252 §5.9.1.1: 2.01 Created names the new resource in Location-Path (one option per segment); no query.
        res.setOption('Location-Path', locationPath(result.location).map((segment) => Buffer.from(segment, 'utf8')));
        return this.send(res, '2.01', result.body, result.contentType);
      }
      return this.reply(res, result);
    };
    if (kind === 'properties') {
      if (req.method === 'PUT') return queue('writeProperty');
      if (req.method !== 'GET') return this.send(res, '4.05', 'Method Not Allowed');
      this.auth.check(authorization, 'read');
      return observe ? this.observeProperty(res, id, name, relationKey) : this.reply(res, await this.things.readProperty(id, name));
    }
    if (kind === 'actions') {
      if (req.method !== 'POST') return this.send(res, '4.05', 'Method Not Allowed');
      return queue('invokeAction');
    }
    if (kind === 'events') {
      if (req.method !== 'GET') return this.send(res, '4.05', 'Method Not Allowed');
      this.auth.check(authorization, 'read');
      if (!observe) return this.send(res, '4.00', 'Subscribing to an event needs the Observe option');
      return this.observe(res, id, 'event', name, undefined, relationKey);
    }
    return this.send(res, '4.04', 'Not Found');
  }

  /**
   * The status resources of queued commands, as over HTTP: GET /wot/{id}/commands (queryallactions), GET
   * /wot/{id}/commands/{uuid} (queryaction, read scope) and DELETE (cancelaction, act scope).
   */
  private async commands(req: CoapRequest, res: CoapResponse, id: string, path: string[], authorization: string | undefined, token: string | undefined): Promise<void> {
    if (path.length === 3) {
      if (req.method !== 'GET') return this.send(res, '4.05', 'Method Not Allowed');
      this.auth.check(authorization, 'read');
      return this.send(res, '2.05', JSON.stringify(this.things.queryAllActions(id)), JSON_TYPE);
    }
    if (path.length !== 4) return this.send(res, '4.04', 'Not Found');
    const commandId = path[3]!;
    if (commandId.length > 64) return this.send(res, '4.04', 'Not Found');
    if (req.method === 'GET') {
      this.auth.check(authorization, 'read');
      return this.send(res, '2.05', JSON.stringify(this.things.queryAction(id, commandId)), JSON_TYPE);
    }
    if (req.method === 'DELETE') {
      this.auth.check(authorization, 'act');
      // RFC 7252 §5.8.4: 2.02 Deleted; the payload is the command as cancelled (as HTTP's 200 body).
      return this.send(res, '2.02', JSON.stringify(await this.things.cancelAction(id, commandId, requesterOf(token))), JSON_TYPE);
    }
    return this.send(res, '4.05', 'Method Not Allowed');
  }

  /**
   * Uri-Path options carry decoded segments (RFC 7252 §6.4), but node-coap's client (used by node-wot) sends the
   * percent-encoded href segment as is: accept both.
   */
  private thingId(segment: string): string {
    if (this.things.hasThing(segment)) return segment;
    return lenientDecode(segment);
  }

  private async observeProperty(res: CoapResponse, id: string, name: string, relationKey: string): Promise<void> {
    // RFC 7641 §4.2: the registration response carries the current state; `null` until a first value arrived.
    let initial: Buffer;
    try {
      initial = (await this.things.readProperty(id, name)).body;
    } catch (e) {
      if (!(e instanceof HubError) || e.code !== 'no-value') throw e;
      initial = Buffer.from('null');
    }
    await this.observe(res, id, 'property', name, initial, relationKey);
  }

  private async observe(
    res: CoapResponse,
    id: string,
    kind: 'property' | 'event',
    name: string,
    initial: Buffer | undefined,
    relationKey: string,
  ): Promise<void> {
    const endpoint = relationKey.slice(0, relationKey.lastIndexOf('|'));
    const held = this.perEndpoint.get(endpoint) ?? 0;
    if (held >= this.maxPerEndpoint && !this.byToken.has(relationKey)) {
      throw new ServiceUnavailableError(`This client already holds ${held} observations`, {}, 'overloaded');
    }
    this.perEndpoint.set(endpoint, held + 1); // reserved before the await so parallel registrations count too
    let ended = false;
    const writable = () => !ended && !res.writableEnded && !res.destroyed;
    let unsubscribe = () => {};
    const end = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      this.relations.delete(close);
      if (this.byToken.get(relationKey) === close) this.byToken.delete(relationKey);
      const n = (this.perEndpoint.get(endpoint) ?? 1) - 1;
      if (n > 0) this.perEndpoint.set(endpoint, n);
      else this.perEndpoint.delete(endpoint);
    };
    const close = () => {
      const open = writable();
      end();
      if (open) res.end();
    };
    try {
      unsubscribe = await this.things.observe(id, kind, name, (body) => void (writable() && notify(res, body)), close);
    } catch (e) {
      end();
      throw e;
    }
    this.byToken.get(relationKey)?.(); // a re-registration with the same token replaces the relation
    this.relations.add(close);
    this.byToken.set(relationKey, close);
    res.on('finish', end);
    res.on('close', end);
    res.on('error', (e) => {
      this.onError(e, 'CoAP observe relation failed');
      end();
    });
    res.setOption('Content-Format', JSON_TYPE);
    if (initial !== undefined) notify(res, initial);
  }

  /** Whether this request may read (a valid read token, or reads open without one). */
  private mayRead(authorization: string | undefined): boolean {
    try {
      this.auth.check(authorization, 'read');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * RFC 6690 link format; WoT Discovery §6.4 names the resource types wot.thing and wot.directory. The Thing ids are
   * reads: where reads need a token (readsOpen never, or not on loopback) a client without a valid `?access_token=`
   * sees only the directory link, which tells it where to authenticate.
   */
  private coreLinks(rt: string | null, listThings: boolean): string {
    const links = [`<${this.directoryUrl}>;rt="wot.directory";ct=432`];
    if (listThings) for (const id of this.things.thingIds()) links.push(`</wot/${encodeURIComponent(id)}>;rt="wot.thing";ct=432`);
    return links.filter((l) => rt === null || rt === '*' || l.includes(`rt="${rt}"`)).join(',');
  }

  private reply(res: CoapResponse, result: { body: Buffer; contentType: string }): void {
    this.send(res, '2.05', result.body, result.contentType);
  }

  private send(res: CoapResponse, code: string, payload: Buffer | string, contentType?: string): void {
    if (res.writableEnded || res.destroyed) return;
    res.code = code;
    res.statusCode = code;
    if (contentType) res.setOption('Content-Format', contentType);
    res.end(typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  private fail(res: CoapResponse, error: unknown): void {
    try {
      if (error instanceof HubError && error.status < 500) {
        const code = `4.${String(error.status % 100).padStart(2, '0')}`;
        return this.send(res, code, `${error.code}: ${error.message}`.slice(0, 512));
      }
      if (error instanceof HubError && error.status === 503) return this.send(res, '5.03', error.message);
      this.onError(error, 'CoAP request failed');
      this.send(res, '5.00', 'Internal Server Error');
    } catch (e) {
      this.onError(e, 'CoAP error response failed');
    }
  }
}

/**
 * Writes one notification. node-coap 1.5's ObserveWriteStream sends every notification after the first to a
 * Non-confirmable registration as an ACK (`ack = request.confirmable === false`), which no client can match or reset:
 * RFC 7641 §4.5 notifications are CON or NON, so the flag is cleared once the registration response has gone out.
 */
function notify(res: CoapResponse, body: Buffer): void {
  res.write(body);
  const packet = (res as unknown as { _packet?: { ack?: boolean } })._packet;
  if (packet) packet.ack = false;
}

/** Location-Path segments of a status resource URL (decoded, RFC 7252 §5.10.7: one option per segment). */
function locationPath(location: string): string[] {
  // The last four segments (wot, thing id, commands, uuid): a base URL's own path prefix is HTTP's, not CoAP's.
  const pathname = location.startsWith('/') ? location : new URL(location).pathname;
  return pathname.split('/').filter((s) => s !== '').slice(-4).map(lenientDecode);
}

function lenientDecode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
