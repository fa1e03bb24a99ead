// Raw RFC 7252 datagrams at the hub's CoAP server: format errors get RST or silence (never 5.00 with internals), pings
// get RST, Resets cancel observe relations and are never answered, bad requests get 4.0x without internals.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectDatagram } from '../../hub/things/coap-datagram.ts';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { coapClient, coapRequest, pathOptions, RUN_COAP_PEER_TESTS } from './coap-peers.ts';
import { DEVICE_ID, deviceTd, uplink, waitFor } from './fixtures.ts';

interface Reply {
  type: number;
  code: number;
  messageId: number;
  token: Buffer;
  payload: string;
  raw: Buffer;
}

function parseReply(raw: Buffer): Reply {
  const tkl = raw[0]! & 0x0f;
  const marker = raw.indexOf(0xff, 4 + tkl);
  return {
    type: (raw[0]! >> 4) & 3,
    code: raw[1]!,
    messageId: raw.readUInt16BE(2),
    token: raw.subarray(4, 4 + tkl),
    payload: marker >= 0 ? raw.subarray(marker + 1).toString('utf8') : '',
    raw,
  };
}

const code = (c: string) => {
  const [cls, detail] = c.split('.').map(Number) as [number, number];
  return (cls << 5) | detail;
};
const RST_OF = (mid: number) => Buffer.from([0x70, 0x00, mid >> 8, mid & 0xff]);

/** A UDP client on loopback that records every datagram the hub sends it. */
class Peer {
  readonly replies: Reply[] = [];
  private constructor(readonly socket: Socket, private readonly port: number) {}
  static async open(port: number): Promise<Peer> {
    const s = createSocket('udp4');
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const peer = new Peer(s, port);
    s.on('message', (msg) => peer.replies.push(parseReply(msg)));
    return peer;
  }
  send(datagram: Buffer): void {
    this.socket.send(datagram, this.port, '127.0.0.1');
  }
  /** The first reply that satisfies `match`, within `ms`. */
  async reply(match: (r: Reply) => boolean = () => true, ms = 5000): Promise<Reply> {
    return waitFor(() => this.replies.find(match), ms, 'a CoAP reply');
  }
  /** Sends and then waits `ms` (generous: the machine is loaded) to show that nothing came back. */
  async silence(datagram: Buffer, ms = 700): Promise<Reply[]> {
    const before = this.replies.length;
    this.send(datagram);
    await new Promise((r) => setTimeout(r, ms));
    return this.replies.slice(before);
  }
  close(): void {
    this.socket.close();
  }
}

const TOKEN = Buffer.from([0xbe, 0xef]);
const PATH = ['wot', DEVICE_ID, 'properties', 'temperature'];

describe('CoAP datagram handling (RFC 7252 §3, §4.2, §4.3, §5.4.1; RFC 7641 §3.6)', () => {
  let hub: TestHub;
  let peer: Peer;

  beforeAll(async () => {
    hub = await startTestHub();
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 5000, 'exposure');
    hub.liveState.publish(uplink(DEVICE_ID, { temperature: 20 }));
    peer = await Peer.open(hub.things.coapPort);
  });
  afterAll(async () => {
    peer?.close();
    await hub?.stop();
  });

  it('a truncated header or an unknown version gets no answer at all', async () => {
    expect(await peer.silence(Buffer.from([0x40, 0x01, 0x00]))).toEqual([]);
    expect(await peer.silence(Buffer.from([0x80, 0x01, 0x00, 0x05, 0xb3, 0x77, 0x6f, 0x74]))).toEqual([]); // version 2
  });

  it.each([9, 10, 12, 15])('token length %i (reserved): a CON gets RST with its message ID, a NON nothing', async (tkl) => {
    const mid = 0x1200 + tkl;
    const datagram = Buffer.concat([Buffer.from([0x40 | tkl, 0x01, mid >> 8, mid & 0xff]), Buffer.alloc(15, 0x61)]);
    const replies = await peer.silence(datagram);
    expect(replies.map((r) => r.raw)).toEqual([RST_OF(mid)]);
    expect(await peer.silence(Buffer.from([0x50 | tkl, 0x01, 0x00, 0x01, ...Buffer.alloc(15, 0x61)]))).toEqual([]);
  });

  it('option delta 15 without the payload marker, and an option running past the end: RST', async () => {
    const delta15 = Buffer.concat([coapRequest(1, 0x1301, TOKEN, pathOptions(['wot'], false)), Buffer.from([0xf1, 0x00])]);
    expect((await peer.silence(delta15)).map((r) => r.raw)).toEqual([RST_OF(0x1301)]);
    const truncated = Buffer.concat([Buffer.from([0x42, 0x01, 0x13, 0x02]), TOKEN, Buffer.from([0xb8, 0x77, 0x6f])]);
    expect((await peer.silence(truncated)).map((r) => r.raw)).toEqual([RST_OF(0x1302)]);
  });

  it('a payload marker followed by no payload: RST (§3 message format error), never 5.00', async () => {
    const datagram = Buffer.concat([coapRequest(2, 0x1401, TOKEN, pathOptions(['wot', DEVICE_ID, 'actions', 'setInterval'], false)), Buffer.from([0xff])]);
    expect((await peer.silence(datagram)).map((r) => r.raw)).toEqual([RST_OF(0x1401)]);
  });

  it('a CoAP ping (Empty CON) gets RST; an Empty NON, an unmatched ACK and an unmatched RST get nothing', async () => {
    const pong = await peer.silence(Buffer.from([0x40, 0x00, 0x15, 0x01]));
    expect(pong.map((r) => r.raw)).toEqual([RST_OF(0x1501)]);
    expect(await peer.silence(Buffer.from([0x50, 0x00, 0x15, 0x02]))).toEqual([]);
    expect(await peer.silence(Buffer.from([0x60, 0x00, 0x15, 0x03]))).toEqual([]);
    expect(await peer.silence(RST_OF(0x1504))).toEqual([]);
    // An Empty message with a token is a format error.
    expect((await peer.silence(Buffer.from([0x41, 0x00, 0x15, 0x05, 0x01]))).map((r) => r.raw)).toEqual([RST_OF(0x1505)]);
  });

  it('refuses an unrecognised critical option with 4.02 piggybacked on the ACK; ignores an elective one', async () => {
    const options = pathOptions(PATH, false);
    peer.send(coapRequest(1, 0x1601, TOKEN, [...options, [2049, Buffer.from('x')]]));
    const bad = await peer.reply((r) => r.messageId === 0x1601);
    expect([bad.type, bad.code, bad.token]).toEqual([2, code('4.02'), TOKEN]);
    peer.send(coapRequest(1, 0x1602, TOKEN, [...options, [2050, Buffer.from('x')]]));
    const ok = await peer.reply((r) => r.messageId === 0x1602);
    expect([ok.type, ok.code, ok.payload]).toEqual([2, code('2.05'), '20']);
  });

  it('answers bad Uri-Path UTF-8 with 4.00, Proxy-Uri with 5.05, FETCH with 4.05, POST+Observe with 4.00; no internals', async () => {
    const cases: Array<[number, number, Array<[number, Buffer]>, string]> = [
      [0x1701, 1, [[11, Buffer.from('wot')], [11, Buffer.from([0xc3, 0x28])]], '4.00'],
      [0x1702, 1, [[35, Buffer.from('coap://example.invalid/x')]], '5.05'],
      [0x1703, 5, pathOptions(PATH, false), '4.05'],
      [0x1704, 2, [...pathOptions(['wot', DEVICE_ID, 'actions', 'setInterval'], false), [6, Buffer.alloc(0)]], '4.00'],
    ];
    for (const [mid, method, options, expected] of cases) {
      peer.send(coapRequest(method, mid, TOKEN, options));
      const r = await peer.reply((x) => x.messageId === mid);
      expect([r.type, r.code, r.token]).toEqual([2, code(expected), TOKEN]);
      expect(r.payload).not.toMatch(/Error|at .*\.(js|ts)|undefined|node_modules/);
    }
  });

  it('no garbage datagram is ever answered with 5.00', async () => {
    const before = peer.replies.length;
    for (let i = 0; i < 200; i++) {
      const len = 4 + ((i * 7) % 40);
      const bytes = Buffer.from(Array.from({ length: len }, (_, j) => (i * 131 + j * 29 + 7) & 0xff));
      bytes[0] = 0x40 | (bytes[0]! & 0x3f); // version 1, so that the rest is inspected
      peer.send(bytes);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const answers = peer.replies.slice(before);
    expect(answers.filter((r) => r.code >> 5 === 5 && r.code !== code('5.05'))).toEqual([]);
    expect((await hub.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it.each([
    ['CON', 0x40],
    ['NON', 0x50],
  ])('a RST to a notification of a %s observation cancels the relation and is not answered', async (_kind, typeBits) => {
    const observer = await Peer.open(hub.things.coapPort);
    try {
      const baseline = hub.things.coapRouter.observeRelations;
      const token = Buffer.from([typeBits, 0x0b]);
      const register = coapRequest(1, 0x1800 + typeBits, token, pathOptions(PATH, true));
      register[0] = typeBits | token.length;
      observer.send(register);
      await observer.reply((r) => r.code === code('2.05'));
      await waitFor(() => (hub.things.coapRouter.observeRelations === baseline + 1 ? true : undefined), 5000, 'the relation');
      const value = 100 + typeBits;
      hub.liveState.publish(uplink(DEVICE_ID, { temperature: value }));
      const note = await observer.reply((r) => r.payload === String(value));
      expect(note.type).toBe(typeBits === 0x40 ? 0 : 1); // a notification is CON or NON (RFC 7641 §4.5), never an ACK
      const after = await observer.silence(RST_OF(note.messageId), 500);
      expect(after.filter((r) => r.type === 3 || r.code >= code('4.00'))).toEqual([]); // the RST is never answered
      await waitFor(() => (hub.things.coapRouter.observeRelations === baseline ? true : undefined), 5000, 'the relation to end');
      const count = observer.replies.length;
      hub.liveState.publish(uplink(DEVICE_ID, { temperature: value + 1 }));
      await new Promise((r) => setTimeout(r, 700));
      expect(observer.replies.slice(count).filter((r) => r.payload === String(value + 1))).toEqual([]);
    } finally {
      observer.close();
    }
  });

  it('inspectDatagram is total: it classifies every 1- to 6-byte prefix of a request without throwing', () => {
    const request = coapRequest(1, 0x1901, TOKEN, pathOptions(PATH, true));
    for (let n = 0; n <= request.length; n++) expect(() => inspectDatagram(request.subarray(0, n))).not.toThrow();
    expect(inspectDatagram(request).action).toBe('request');
    expect(inspectDatagram(request.subarray(0, 3)).action).toBe('ignore');
  });
});

describe('/.well-known/core under readsOpen=never', () => {
  let hub: TestHub;
  let peer: Peer;
  beforeAll(async () => {
    hub = await startTestHub({ readsOpen: 'never' });
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 5000, 'exposure');
    peer = await Peer.open(hub.things.coapPort);
  });
  afterAll(async () => {
    peer?.close();
    await hub?.stop();
  });

  const core = async (mid: number, query?: string) => {
    const options: Array<[number, Buffer]> = [[11, Buffer.from('.well-known')], [11, Buffer.from('core')]];
    if (query) options.push([15, Buffer.from(query)]);
    peer.send(coapRequest(1, mid, TOKEN, options));
    return peer.reply((r) => r.messageId === mid);
  };

  it('lists only the directory link without a valid token, and every Thing with ?access_token=', async () => {
    const anonymous = await core(0x2001);
    expect(anonymous.code).toBe(code('2.05'));
    expect(anonymous.payload).toContain('rt="wot.directory"');
    expect(anonymous.payload).not.toContain('wot.thing');
    expect(anonymous.payload).not.toContain(encodeURIComponent(DEVICE_ID));
    const wrong = await core(0x2002, 'access_token=not-a-valid-token-at-all');
    expect(wrong.payload).not.toContain('wot.thing');
    const authorised = await core(0x2003, `access_token=${TEST_ADMIN_TOKEN}`);
    expect(authorised.payload).toContain(`</wot/${encodeURIComponent(DEVICE_ID)}>;rt="wot.thing"`);
  });

  it.skipIf(!RUN_COAP_PEER_TESTS)('coap-client-notls sees the same (peer: Debian libcoap3-bin)', async () => {
    const url = `coap://127.0.0.1:${hub.things.coapPort}/.well-known/core`;
    const anonymous = await coapClient(['-m', 'get', '-B', '5', url]);
    expect(anonymous.stdout).toContain('rt="wot.directory"');
    expect(anonymous.stdout).not.toContain('wot.thing');
    const authorised = await coapClient(['-m', 'get', '-B', '5', `${url}?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(authorised.stdout).toContain('rt="wot.thing"');
  });
});

describe.skipIf(!RUN_COAP_PEER_TESTS)('libcoap against the gate (peer: coap-client-notls)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 5000, 'exposure');
  });
  afterAll(() => hub?.stop());

  it('reads, observes and invokes as before: the gate passes every well-formed libcoap request', async () => {
    hub.liveState.publish(uplink(DEVICE_ID, { temperature: 12.5 }));
    const base = `coap://127.0.0.1:${hub.things.coapPort}/wot/${encodeURIComponent(DEVICE_ID)}`;
    const read = await coapClient(['-m', 'get', '-B', '5', `${base}/properties/temperature`]);
    expect(JSON.parse(read.stdout)).toBe(12.5);
    const act = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"seconds":900}', '-B', '5', `${base}/actions/setInterval?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(JSON.parse(act.stdout)).toMatchObject({ status: 'QUEUED' });
    const badUtf8 = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"seconds":"\u00ff"}', '-B', '5', `${base}/actions/setInterval?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(badUtf8.stdout + badUtf8.stderr).toMatch(/4\.00/);
  });
});
