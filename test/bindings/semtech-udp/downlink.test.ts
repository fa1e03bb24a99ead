// LoRaWAN 1.0.x downlink and OTAA frames against other implementations' vectors (brocaar/lorawan, lora-packet in
// /work/shared/vectors/lorawan.json), the EU868 RX1 table, the join server's refusals, and FCnt-down durability.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeDownlink, eu868Rx1, openDownlink } from '../../../hub/bindings/lorawan/downlink.ts';
import { encodeJoinAccept, encodeJoinRequest, eu868CfList, openJoinAccept } from '../../../hub/bindings/lorawan/join.ts';
import { parsePhyPayload, type JoinRequestFrame } from '../../../hub/bindings/lorawan/phy-payload.ts';
import { encodePayloadForRoute } from '../../../hub/bindings/semtech-udp/downlink.ts';
import { NetworkState, OtaaJoinServer } from '../../../hub/bindings/semtech-udp/join.ts';
import type { DeviceEntry } from '../../../hub/bindings/types.ts';
import { HubError } from '../../../hub/errors.ts';

type Vector = { source: string; input: Record<string, string>; expected: Record<string, unknown> };
const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/lorawan.json', import.meta.url), 'utf8')) as Vector[];
const hex = (s: string) => Buffer.from(s, 'hex');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lorawan-state-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('join-accept against brocaar/lorawan and lora-packet', () => {
  const accepts = vectors.filter((v) => v.input.AppKey && typeof v.expected.decryptedPHYPayloadHex === 'string');

  it('has both vectors', () => expect(accepts).toHaveLength(2));

  for (const v of accepts) {
    it(`builds the encrypted bytes from the fields: ${v.source.split(' ')[0]}`, () => {
      const plain = hex(String(v.expected.decryptedPHYPayloadHex));
      const fields = {
        appNonce: plain.readUIntLE(1, 3),
        netId: plain.readUIntLE(4, 3),
        devAddr: plain.readUInt32LE(7),
        rx1DrOffset: (plain[11]! >> 4) & 7,
        rx2DataRate: plain[11]! & 15,
        rxDelay: plain[12]!,
      };
      expect(encodeJoinAccept(fields, hex(v.input.AppKey!)).toString('hex')).toBe(v.input.phyPayloadHex!.toLowerCase());
      const opened = openJoinAccept(hex(v.input.phyPayloadHex!), hex(v.input.AppKey!), '0000');
      expect(opened).toMatchObject(fields);
    });
  }

  it('brocaar: JoinNonce 570bc7, NetID 221101, DevAddr 02031980', () => {
    const v = accepts.find((x) => x.source.startsWith('brocaar'))!;
    const o = openJoinAccept(hex(v.input.phyPayloadHex!), hex(v.input.AppKey!), '0000');
    expect([o.appNonce, o.netId.toString(16), o.devAddr.toString(16).padStart(8, '0')]).toEqual([v.expected.JoinNonce, v.expected.NetID, v.expected.DevAddr]);
  });

  it('the device derives lora-packet\'s session keys from AppNonce, NetID and DevNonce', () => {
    const v = vectors.find((x) => x.source.includes('key_gen_test'))!;
    const appKey = hex(v.input.AppKey!);
    const phy = encodeJoinAccept({ appNonce: Number.parseInt(v.input.AppNonce!, 16), netId: Number.parseInt(v.input.NetID!, 16), devAddr: 0x01020304, rx1DrOffset: 0, rx2DataRate: 0, rxDelay: 1 }, appKey);
    const o = openJoinAccept(phy, appKey, v.input.DevNonce!);
    expect([o.keys.nwkSKey.toString('hex'), o.keys.appSKey.toString('hex')]).toEqual([v.expected.NwkSKey, v.expected.AppSKey]);
  });

  it('a tampered or wrongly keyed accept is a typed error', () => {
    const v = accepts[0]!;
    const bad = hex(v.input.phyPayloadHex!);
    bad[5] = bad[5]! ^ 1;
    expect(() => openJoinAccept(bad, hex(v.input.AppKey!), '0000')).toThrow(expect.objectContaining({ code: 'lorawan-mic' }));
    expect(() => openJoinAccept(hex(v.input.phyPayloadHex!), Buffer.alloc(16, 9), '0000')).toThrow(expect.objectContaining({ code: 'lorawan-mic' }));
    expect(() => openJoinAccept(Buffer.alloc(5), Buffer.alloc(16), '0000')).toThrow(expect.objectContaining({ code: 'lorawan-truncated' }));
  });

  it('EU868 CFList: five frequencies, 3 bytes each in units of 100 Hz, CFListType 0; a 33-byte accept', () => {
    const cf = eu868CfList([867.1, 867.3, 867.5, 867.7, 867.9]);
    expect(cf.toString('hex')).toBe('184f84e85684b85e84886684586e8400');
    const phy = encodeJoinAccept({ appNonce: 1, netId: 0, devAddr: 1, rx1DrOffset: 0, rx2DataRate: 0, rxDelay: 1, cfList: cf }, Buffer.alloc(16, 3));
    expect(phy).toHaveLength(33);
    expect(Buffer.from(openJoinAccept(phy, Buffer.alloc(16, 3), '0001').cfList!).toString('hex')).toBe(cf.toString('hex'));
  });
});

describe('data downlinks', () => {
  it('matches brocaar/lorawan\'s downlink MIC vector (LinkCheckAns in FOpts, FPort 1, no ACK: B0 as in 1.0)', () => {
    // brocaar/lorawan phypayload_test.go TestPHYPayloadMACPayloadLoRaWAN11 "Mac-commands in FOpts (... AFCntDown ...)":
    // DevAddr 01020304, FCnt 0, SNwkSIntKey 02..02, bytes 60 04030201 03 0000 020701 01 77701ea3.
    const phy = encodeDownlink({ devAddr: '01020304', fCnt: 0, fPort: 1, fOpts: hex('020701'), keys: { nwkSKey: Buffer.alloc(16, 2), appSKey: Buffer.alloc(16, 1) } });
    expect(phy.toString('hex')).toBe(Buffer.from([96, 4, 3, 2, 1, 3, 0, 0, 2, 7, 1, 1, 119, 112, 30, 163]).toString('hex'));
  });

  it('round-trips through the device side: confirmed, ACK, FPending, FPort 0 under the NwkSKey, 32-bit counters', () => {
    const keys = { nwkSKey: Buffer.alloc(16, 0x11), appSKey: Buffer.alloc(16, 0x22) };
    const phy = encodeDownlink({ devAddr: '260B0042', fCnt: 0x10005, fPort: 7, payload: hex('c0ffee'), confirmed: true, ack: true, fPending: true, keys });
    const frame = parsePhyPayload(phy);
    expect(frame).toMatchObject({ mType: 'Confirmed Data Down', uplink: false, devAddrHex: '260B0042', fCnt16: 5, fPort: 7, fCtrl: { ack: true, classBOrFPending: true } });
    const o = openDownlink(phy, keys, 0xfff0);
    expect([o.fCnt, o.payload.toString('hex')]).toEqual([0x10005, 'c0ffee']);
    expect(() => openDownlink(phy, keys, 0x10005)).toThrow(expect.objectContaining({ code: 'lorawan-fcnt-replay' }));
    expect(() => openDownlink(phy, { ...keys, nwkSKey: Buffer.alloc(16) }, 0xfff0)).toThrow(expect.objectContaining({ code: 'lorawan-mic' }));
    const mac = encodeDownlink({ devAddr: 1, fCnt: 1, fPort: 0, payload: hex('0607'), keys });
    expect(openDownlink(mac, { nwkSKey: keys.nwkSKey, appSKey: Buffer.alloc(16) }).payload.toString('hex')).toBe('0607');
    const ackOnly = parsePhyPayload(encodeDownlink({ devAddr: 1, fCnt: 2, ack: true, keys }));
    expect(ackOnly).toMatchObject({ fPort: undefined, fCtrl: { ack: true } });
    expect(() => encodeDownlink({ devAddr: 1, fCnt: 1, fPort: 0, fOpts: hex('02'), payload: hex('01'), keys })).toThrow(RangeError);
  });

  it('EU868 RX1: the uplink data rate (minus RX1DROffset) and its payload limit; other rates are not answered', () => {
    expect(eu868Rx1('SF7BW125')).toEqual({ dr: 5, datr: 'SF7BW125', maxPayload: 222 });
    expect(eu868Rx1('SF9BW125')).toEqual({ dr: 3, datr: 'SF9BW125', maxPayload: 115 });
    expect(eu868Rx1('SF12BW125')).toEqual({ dr: 0, datr: 'SF12BW125', maxPayload: 51 });
    expect(eu868Rx1('SF7BW125', 2)).toEqual({ dr: 3, datr: 'SF9BW125', maxPayload: 115 });
    expect(eu868Rx1('SF10BW125', 5)).toMatchObject({ dr: 0 });
    expect(eu868Rx1(50000)).toBeUndefined();
    expect(eu868Rx1('SF7BW500')).toBeUndefined();
  });

  it('payloads: raw hex or the sensor model\'s payloadHex/fport; nothing encodable is a 400 bad-downlink-payload', () => {
    const route = { deviceDefinitions: {}, codecs: [] };
    expect(encodePayloadForRoute('downlink', { payloadHex: '0a0b', fport: 9, confirmed: false }, route)).toEqual({ fPort: 9, confirmed: false, bytes: Uint8Array.from([10, 11]) });
    expect(encodePayloadForRoute('raw', { hex: 'ff' }, { deviceDefinitions: { downlinkFPort: 4 }, codecs: [] })).toMatchObject({ fPort: 4, confirmed: true });
    for (const bad of [{ seconds: 10 }, { hex: 'xyz' }, null, 'text']) {
      expect(() => encodePayloadForRoute('setInterval', bad, route)).toThrow(expect.objectContaining({ status: 400, code: 'bad-downlink-payload' }));
    }
  });
});

describe('OTAA join server', () => {
  // lora-packet's join-request: AppKey 98929b92..., AppEUI aa13693363343639, DevEUI 3331383274356905, DevNonce 8904.
  const jr = vectors.find((v) => v.source.includes('(join request)'))!;
  const appKey = hex(jr.input.AppKey!);
  const entry = (dd: Record<string, unknown>): DeviceEntry => ({ thingId: 'urn:t:1', adapterId: 'urn:a', keyType: 'devEui', deviceKey: '3331383274356905', interfaceType: 'uplink_triggered', deviceDefinitions: dd, codecs: [] });
  const server = (dd: Record<string, unknown>, state = new NetworkState()) =>
    new OtaaJoinServer({ state, secrets: { secret: (r) => (r === 'secret:k' ? Buffer.from(appKey) : undefined) }, lookup: (t, k) => (t === 'devEui' && k === '3331383274356905' ? entry(dd) : undefined) });
  const request = () => parsePhyPayload(hex(jr.input.phyPayloadHex!)) as JoinRequestFrame;

  it('accepts lora-packet\'s join-request; the device opens the accept and derives the keys the server stored', async () => {
    const s = server({ devEui: '3331383274356905', appEui: 'AA13693363343639', appKey: 'secret:k', rxDelay: 2 });
    const r = await s.join(request());
    const o = openJoinAccept(r.phy, appKey, '8904');
    expect(o.devAddr.toString(16).toUpperCase().padStart(8, '0')).toBe(r.session.devAddr);
    expect(o.rxDelay).toBe(2);
    expect([o.keys.nwkSKey.toString('hex'), o.keys.appSKey.toString('hex')]).toEqual([r.session.nwkSKey, r.session.appSKey]);
    expect(r.acceptDelay).toBe(5);
    expect(s.deviceOfDevAddr(r.session.devAddr)?.thingId).toBe('urn:t:1');
    expect(Buffer.from(s.sessionKeys(entry({ devEui: '3331383274356905' }), r.session.devAddr)!.nwkSKey).toString('hex')).toBe(r.session.nwkSKey);
    // The same DevNonce again: a replay, refused and counted.
    await expect(s.join(request())).rejects.toMatchObject({ status: 409, code: 'lorawan-devnonce-replay' });
    expect(s.counters).toMatchObject({ joinAccepted: 1, devNonceReplay: 1 });
  });

  it('refuses with typed errors: unknown DevEUI, JoinEUI mismatch, no AppKey, bad MIC (which burns no DevNonce)', async () => {
    const none = new OtaaJoinServer({ state: new NetworkState(), secrets: { secret: () => undefined }, lookup: () => undefined });
    await expect(none.join(request())).rejects.toMatchObject({ status: 404, code: 'unknown-device' });
    await expect(server({ appKey: 'secret:k', joinEui: '0000000000000001' }).join(request())).rejects.toMatchObject({ code: 'lorawan-join-eui' });
    await expect(server({ appKey: 'secret:other' }).join(request())).rejects.toMatchObject({ code: 'lorawan-keys-missing' });
    const state = new NetworkState();
    const s = server({ appKey: 'secret:k' }, state);
    const forged = hex(jr.input.phyPayloadHex!);
    forged[22] = forged[22]! ^ 0xff;
    await expect(s.join(parsePhyPayload(forged) as JoinRequestFrame)).rejects.toMatchObject({ code: 'lorawan-mic' });
    await expect(s.join(request())).resolves.toBeDefined();
  });

  it('a join-request built by the simulator encoder parses and verifies', () => {
    const phy = encodeJoinRequest({ joinEui: 'AA13693363343639', devEui: '3331383274356905', devNonce: '8904', appKey });
    expect(phy.toString('hex')).toBe(jr.input.phyPayloadHex!.toLowerCase());
  });
});

describe('network state durability', () => {
  it('FCnt down never repeats across a restart; sessions and DevNonces survive; the file is 0600', async () => {
    const dir = tempDir();
    const a = new NetworkState(dir);
    const used = [await a.nextFCntDown('S'), await a.nextFCntDown('S'), await a.nextFCntDown('S')];
    expect(used).toEqual([0, 1, 2]);
    a.useDevNonce('E', '0001');
    a.putSession({ devEui: 'E', thingId: 't', devAddr: '01020304', nwkSKey: '00'.repeat(16), appSKey: '11'.repeat(16), netId: 0, appNonce: 1, devNonce: '0001', rxDelay: 1, rx1DrOffset: 0, joinedAt: new Date().toISOString() });
    await a.persist();
    // No close(): as after a kill -9, only what was written counts.
    const b = new NetworkState(dir);
    const next = await b.nextFCntDown('S');
    expect(next).toBeGreaterThan(2);
    expect(b.useDevNonce('E', '0001')).toBe(false);
    expect(b.sessionByDevAddr('01020304')?.devEui).toBe('E');
    expect(statSync(join(dir, 'network.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await b.close();
  });

  it('a counter is handed out only once a reservation above it is on disk (background reservations ahead of use)', async () => {
    const dir = tempDir();
    const s = new NetworkState(dir);
    s.prepareFCntDown('T');
    await s.persist();
    const writes = s.counters.writes;
    for (let i = 0; i < 20; i++) expect(await s.nextFCntDown('T')).toBe(i);
    expect(s.counters.writes - writes).toBeLessThanOrEqual(1);
    const reopened = new NetworkState(dir);
    expect(await reopened.nextFCntDown('T')).toBeGreaterThanOrEqual(20);
  });

  it('a state file that is not JSON starts empty (reported, never quoted)', () => {
    const dir = tempDir();
    const errors: unknown[] = [];
    new NetworkState(dir).putSession({ devEui: 'X', thingId: 't', devAddr: 'AABBCCDD', nwkSKey: 'aa', appSKey: 'bb', netId: 0, appNonce: 1, devNonce: '0000', rxDelay: 1, rx1DrOffset: 0, joinedAt: '' });
    writeFileSync(join(dir, 'network.json'), '{"secret-ish": 00112233');
    const s = new NetworkState(dir, (e) => errors.push(e));
    expect(s.sessionByDevAddr('AABBCCDD')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).not.toContain('00112233');
    expect(errors[0]).not.toBeInstanceOf(HubError);
  });
});
