// Fuzz target: CoAP datagrams (RFC 7252) delivered to the hub's CoAP server socket in-process (node-coap parse + CoapRouter).
import { createRequire } from 'node:module';
import type { Socket } from 'node:dgram';
import { HubError, NotFoundError } from '../../../hub/errors.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import { CoapRouter } from '../../../hub/things/coap-router.ts';
import { HubCoapServer } from '../../../hub/things/coap-server.ts';
import type { ThingInteractions } from '../../../hub/things/interactions.ts';
import { coapDatagram } from '../generators.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const require = createRequire(import.meta.url);
const packet = require('coap-packet') as {
  generate(p: Record<string, unknown>): Buffer;
  parse(b: Buffer): { code: string; payload: Buffer; reset?: boolean; ack?: boolean };
};

const THING = 'urn:ex:thing';
let socket: Socket;
let sent: Buffer[] = [];
let internalErrors: unknown[] = [];
let server: HubCoapServer;

const COMMAND = '00000000-0000-4000-8000-000000000001';

const things: ThingInteractions = {
  async readProperty(id, name) {
    if (id !== THING || name !== 'temperature') throw new NotFoundError('no such property');
    return { body: Buffer.from('21.5'), contentType: 'application/json' };
  },
  async invokeAction(id, name, body) {
    if (id !== THING || name !== 'toggle') throw new NotFoundError('no such action');
    return { body: Buffer.from(JSON.stringify({ length: body?.length ?? 0 })), contentType: 'application/json' };
  },
  async writeProperty(id, name, body) {
    if (id !== THING || name !== 'setpoint') throw new NotFoundError('no such writable property');
    return { body: Buffer.from(JSON.stringify({ length: body?.length ?? 0 })), contentType: 'application/json' };
  },
  queryAction(id, commandId) {
    if (id !== THING || commandId !== COMMAND) throw new NotFoundError('no such command');
    return { id: `urn:uuid:${COMMAND}`, thingId: id, action: 'toggle', input: null, status: 'QUEUED', submittedAt: '2026-01-01T00:00:00.000Z' };
  },
  queryAllActions(id) {
    if (id !== THING) throw new NotFoundError('no such Thing');
    return [];
  },
  async cancelAction(id, commandId) {
    if (id !== THING || commandId !== COMMAND) throw new NotFoundError('no such command');
    return { id: `urn:uuid:${COMMAND}`, thingId: id, action: 'toggle', input: null, status: 'CANCELLED', submittedAt: '2026-01-01T00:00:00.000Z' };
  },
  async observe(id, _kind, name) {
    if (id !== THING || (name !== 'temperature' && name !== 'alarm')) throw new NotFoundError('no such affordance');
    return () => {};
  },
  thingDescription(id) {
    if (id !== THING) throw new NotFoundError('no such Thing');
    return { id, title: 'fuzz' };
  },
  hasThing: (id) => id === THING,
  thingIds: () => [THING],
};

/** Requests a node-coap client (as node-wot and coap-client send them) puts on the wire. */
function datagramSeeds(): Uint8Array[] {
  const path = (...segments: string[]) => segments.map((value) => ({ name: 'Uri-Path', value: Buffer.from(value) }));
  const reqs: Array<Record<string, unknown>> = [
    { code: '0.01', confirmable: true, messageId: 1, token: Buffer.from('ab', 'hex'), options: path('.well-known', 'core') },
    { code: '0.01', confirmable: true, messageId: 2, token: Buffer.from('0102', 'hex'), options: [...path('.well-known', 'core'), { name: 'Uri-Query', value: Buffer.from('rt=wot.thing') }] },
    { code: '0.01', confirmable: true, messageId: 3, token: Buffer.from('03', 'hex'), options: path('wot', THING) },
    { code: '0.01', confirmable: true, messageId: 4, token: Buffer.from('04', 'hex'), options: path('wot', encodeURIComponent(THING), 'properties', 'temperature') },
    { code: '0.01', confirmable: true, messageId: 5, token: Buffer.from('0506', 'hex'), options: [{ name: 'Observe', value: Buffer.alloc(0) }, ...path('wot', THING, 'properties', 'temperature')] },
    { code: '0.02', confirmable: true, messageId: 6, token: Buffer.from('07', 'hex'), options: [...path('wot', THING, 'actions', 'toggle'), { name: 'Content-Format', value: Buffer.from([50]) }, { name: 'Uri-Query', value: Buffer.from('access_token=secret') }], payload: Buffer.from('{"on":true}') },
    { code: '0.01', confirmable: false, messageId: 7, token: Buffer.from('08', 'hex'), options: [{ name: 'Observe', value: Buffer.alloc(0) }, ...path('wot', THING, 'events', 'alarm')] },
    { code: '0.00', confirmable: true, messageId: 8 }, // ping (RFC 7252 §4.3)
    { code: '0.00', reset: true, messageId: 9 }, // RST
    { code: '0.00', ack: true, messageId: 10 },
    { code: '0.01', confirmable: true, messageId: 11, token: Buffer.from('0b', 'hex'), options: [{ name: 'Block2', value: Buffer.from([0x06]) }, ...path('wot', THING)] },
  ];
  return reqs.map((r) => new Uint8Array(packet.generate(r)));
}

/** The node-coap server inside node-wot's CoapServer inside HubCoapServer (all private there). */
function coapSocket(s: HubCoapServer): Socket {
  const inner = (s as unknown as { inner: { server: { _sock?: Socket } } }).inner;
  const sock = inner.server._sock;
  if (!sock) throw new Error('the CoAP server has no socket');
  return sock;
}

export const coapTarget: FuzzTarget = {
  name: 'coap',
  description: 'datagram -> the CoAP server socket of HubCoapServer (node-coap parsing, CoapRouter); a 5.00 answer or an internal error is a crash',
  tokens: ['\xff', '\x00', '\xb1', '\x0d', '\x0e', '\xd0', '\xe0', 'wot', '.well-known', 'core', '%', '%ff', 'commands', COMMAND],
  seeds: datagramSeeds,
  generate: (rng) => coapDatagram(rng),
  generateRatio: 0.5,
  async setup() {
    const auth = new TokenAuth({ tokens: [], readsOpen: 'always', host: '127.0.0.1' }, 'secret');
    const router = new CoapRouter(things, auth, 'http://127.0.0.1:8080/.well-known/wot', (e) => internalErrors.push(e));
    server = new HubCoapServer('127.0.0.1', 0, true, '127.0.0.1', router, (e) => internalErrors.push(e), true);
    await server.start(undefined as never);
    socket = coapSocket(server);
    // Answers are captured, not sent: the fuzzer talks to the socket's listeners directly.
    (socket as unknown as { send: (...a: unknown[]) => void }).send = (msg: unknown, ...rest: unknown[]) => {
      sent.push(Buffer.from(msg as Buffer));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
    };
  },
  async run(input) {
    sent = [];
    internalErrors = [];
    socket.emit('message', Buffer.from(input), { address: '127.0.0.1', family: 'IPv4', port: 56830, size: input.length });
    // The router answers after its awaits (microtasks and at most a tick): let them run.
    for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));
    if (internalErrors.length) {
      const e = internalErrors[0];
      throw new OracleError(`internal error reported: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    let rejected: string | undefined;
    for (const out of sent) {
      let code: string;
      try {
        code = packet.parse(out).code;
      } catch {
        throw new OracleError('the server sent a datagram that does not parse');
      }
      if (code === '5.00') throw new OracleError(`answered 5.00: ${packet.parse(out).payload.toString('utf8').slice(0, 120)}`);
      if (code.startsWith('4.')) rejected = code;
    }
    // A 4.xx answer is the CoAP form of a typed rejection (RFC 7252 §5.9.2).
    if (rejected) throw new HubError(400, 'coap-client-error', `answered ${rejected}`);
  },
};
