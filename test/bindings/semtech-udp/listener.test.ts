// The packet-forwarder listener with a python3 UDP peer: acks, deduplication across gateways, MIC/FCnt/decryption,
// rejections counted, session state surviving a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeUplink } from '../../../hub/bindings/lorawan/uplink.ts';
import { listenPacketForwarder, type PacketForwarder } from '../../../hub/bindings/semtech-udp/listener.ts';
import type { DevAddrDevice } from '../../../hub/bindings/semtech-udp/uplinks.ts';
import type { AcceptResult, DeviceFrame, TransportContext, UplinkOrigin, UplinkSink } from '../../../hub/bindings/types.ts';
import { validateConfig } from '../../../hub/config.ts';
import type { HubError } from '../../../hub/errors.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import { SecretStore } from '../../../hub/secrets/secret-store.ts';
import { nodePeer, pullData, pushData, pythonPeer, pythonPeerTimed } from './peer.ts';

const NWK = Buffer.from('44024241ed4ce9a68c6a8bc055233fd3', 'hex');
const APP = Buffer.from('ec925802ae430ca77fd3dd73cb2cc588', 'hex');
const keys = { nwkSKey: NWK, appSKey: APP };
const DEV_ADDR = '49BE7DF1';
const GW1 = '0102030405060708';
const GW2 = 'aabbccddeeff0011';

/** Records what the listener hands the pipeline (the pipeline itself is tested in test/routing). */
class RecordingSink implements UplinkSink {
  frames: Array<{ frame: DeviceFrame; origin: UplinkOrigin }> = [];
  rejected: HubError[] = [];
  async accept(frame: DeviceFrame, origin: UplinkOrigin): Promise<AcceptResult> {
    this.frames.push({ frame, origin });
    return { status: 'stored', thingId: 'urn:dev:1', quads: 1 };
  }
  reject(error: HubError): void {
    this.rejected.push(error);
  }
}

let dir: string;
let sink: RecordingSink;
let ctx: TransportContext;
let pf: PacketForwarder | undefined;
const devices = new Map<string, DevAddrDevice>();

async function start(dedupWindowMs = 100): Promise<PacketForwarder> {
  pf = await listenPacketForwarder(ctx, 0, { resolveDevAddr: (a) => devices.get(a), dedupWindowMs });
  return pf;
}
const until = async (cond: () => boolean, ms = 6000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hub-pf-'));
  const config = validateConfig({ host: '127.0.0.1', dataDir: dir, adminToken: 'admin-token-0123456789abcdef0123', packetForwarderPort: 0 });
  const secrets = new SecretStore(dir);
  await secrets.put('dev1-nwk', NWK);
  await secrets.put('dev1-app', APP);
  sink = new RecordingSink();
  const quiet = { info() {}, warn() {}, error() {} };
  ctx = { config, uplinks: sink, auth: new TokenAuth(config, 'admin-token-0123456789abcdef0123'), secrets, log: quiet };
  devices.clear();
  devices.set(DEV_ADDR, { thingId: 'urn:dev:1', deviceDefinitions: { devAddr: DEV_ADDR, devEui: '70-B3-D5-7E-D0-00-00-01', nwkSKey: 'secret:dev1-nwk', appSKey: 'secret:dev1-app' } });
});
afterEach(async () => {
  await pf?.stop();
  pf = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('packet forwarder over UDP (python3 peer)', () => {
  it('PUSH_ACK and PULL_ACK echo the token; the pull address is remembered', async () => {
    const p = await start();
    const replies = await pythonPeer(p.address!.port, [pushData(GW1, 0x7b, []), pullData(GW1, 0x1234)]);
    expect(replies).toEqual(['027b0001', '02341204']);
    expect(p.gateways().get(GW1.toUpperCase())?.pull?.address).toBe('127.0.0.1');
    expect(p.sendPullResp(GW1, Buffer.from([1, 2]), { imme: true })).toBe(true);
    expect(p.sendPullResp('FFFFFFFFFFFFFFFF', Buffer.from([1, 2]), {})).toBe(false);
  });

  it('one frame from two gateways: one DeviceFrame with both receptions, decrypted, 32-bit FCnt', async () => {
    const p = await start(1200);
    const phy = encodeUplink({ devAddr: DEV_ADDR, fCnt: 7, fPort: 1, payload: Buffer.from('0167011a', 'hex'), keys });
    const timed = await pythonPeerTimed(p.address!.port, [
      pushData(GW1, 1, [{ phy, rssi: -80, time: '2026-01-01T00:00:00.123456Z' }]),
      pushData(GW2, 2, [{ phy, rssi: -60, time: '2026-01-01T00:00:00.123999Z' }]),
    ]);
    expect(timed.map(([hex]) => hex)).toEqual(['02010001', '02020001']);
    // Acks are sent on receipt, not after the 1.2 s deduplication window.
    for (const [, rtt] of timed) expect(rtt!).toBeLessThan(1000);
    await until(() => sink.frames.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.frames).toHaveLength(1);
    const { frame, origin } = sink.frames[0]!;
    expect(frame).toMatchObject({ protocol: 'lorawan', keyType: 'devEui', deviceKey: '70B3D57ED0000001', sequence: 7, fPort: 1, observedAt: '2026-01-01T00:00:00.123Z' });
    expect(Buffer.from(frame.bytes!).toString('hex')).toBe('0167011a');
    expect(frame.messageId).toMatch(/^7-\d+$/);
    expect(frame.radio!.map((r) => [r.gatewayId, r.rssi]).sort()).toEqual([[GW1.toUpperCase(), -80], [GW2.toUpperCase(), -60]].sort());
    expect(frame.network).toMatchObject({ devAddr: DEV_ADDR, fCnt: 7 });
    expect(origin).toMatchObject({ binding: 'semtech-udp', transport: 'udp' });
    expect(p.stats()).toMatchObject({ accepted: 1, stored: 1, duplicatesMerged: 1 });
  });

  it('bad MIC, replayed FCnt, truncated frame, CRC-bad, unknown device, bad datagrams: counted and rejected', async () => {
    const p = await start();
    const good = encodeUplink({ devAddr: DEV_ADDR, fCnt: 10, fPort: 1, payload: Buffer.from('hi'), keys });
    const badMic = Buffer.from(good);
    badMic[badMic.length - 1]! ^= 1;
    const unknown = encodeUplink({ devAddr: '01020304', fCnt: 1, fPort: 1, payload: Buffer.from('x'), keys });
    const replies = await pythonPeer(p.address!.port, [
      pushData(GW1, 1, [{ phy: good }]),
      pushData(GW1, 2, [{ phy: badMic }, { phy: good.subarray(0, 9) }, { phy: unknown }, { phy: good, stat: -1 }]),
      Buffer.from('0200', 'hex'),
      Buffer.from('03000000', 'hex'),
      Buffer.concat([Buffer.from('020300000102030405060708', 'hex'), Buffer.from('{"rxpk":[')]),
    ], 1);
    expect(replies).toEqual(['02010001', '02020001', null, null, null]);
    await until(() => p.stats().accepted === 1 && p.stats().micFailed === 1 && p.stats().unknownDevice === 1);
    // The same frame again after the window: a replay.
    await pythonPeer(p.address!.port, [pushData(GW2, 3, [{ phy: good }])]);
    await until(() => p.stats().fcntReplay === 1);
    const s = p.stats();
    expect(s).toMatchObject({ accepted: 1, micFailed: 1, fcntReplay: 1, malformed: 1, unknownDevice: 1, crcBad: 1, invalid: 3 });
    expect(sink.frames).toHaveLength(1);
    expect(sink.rejected.map((e) => e.code).sort()).toEqual(
      ['lorawan-mic', 'lorawan-fcnt-replay', 'lorawan-truncated', 'unknown-device', 'semtech-truncated', 'semtech-version', 'semtech-json'].sort(),
    );
  });

  it('FCnt state survives a restart (no replay accepted), and rolls over 16 bits', async () => {
    let p = await start();
    const f1 = encodeUplink({ devAddr: DEV_ADDR, fCnt: 0xfffe, fPort: 1, payload: Buffer.from('a'), keys });
    await nodePeer(p.address!.port, [pushData(GW1, 1, [{ phy: f1 }])]);
    await until(() => p.stats().accepted === 1);
    await p.stop();
    p = await start();
    const f2 = encodeUplink({ devAddr: DEV_ADDR, fCnt: 0x10001, fPort: 1, payload: Buffer.from('b'), keys });
    await nodePeer(p.address!.port, [pushData(GW1, 2, [{ phy: f1 }]), pushData(GW1, 3, [{ phy: f2 }])]);
    await until(() => p.stats().accepted === 1 && p.stats().fcntReplay === 1);
    expect(p.stats()).toMatchObject({ accepted: 1, fcntReplay: 1 });
    expect(sink.frames.map((f) => f.frame.sequence)).toEqual([0xfffe, 0x10001]);
    expect(Buffer.from(sink.frames[1]!.frame.bytes!).toString()).toBe('b');
    // New session keys (a new ABP session) start a new counter.
    const fresh = { nwkSKey: Buffer.alloc(16, 0x33), appSKey: Buffer.alloc(16, 0x44) };
    await (ctx.secrets as SecretStore).put('dev1-nwk', fresh.nwkSKey);
    await (ctx.secrets as SecretStore).put('dev1-app', fresh.appSKey);
    await nodePeer(p.address!.port, [pushData(GW1, 4, [{ phy: encodeUplink({ devAddr: DEV_ADDR, fCnt: 1, fPort: 1, payload: Buffer.from('c'), keys: fresh }) }])]);
    await until(() => p.stats().accepted === 2);
    expect(sink.frames.map((f) => f.frame.sequence)).toEqual([0xfffe, 0x10001, 1]);
  });

  it('shared DevAddr: the MIC picks the device; keys missing from the secret store are a rejection', async () => {
    const other = { nwkSKey: Buffer.alloc(16, 7), appSKey: Buffer.alloc(16, 8) };
    await (ctx.secrets as SecretStore).put('dev2-nwk', other.nwkSKey);
    await (ctx.secrets as SecretStore).put('dev2-app', other.appSKey);
    devices.set('26000001', [
      { thingId: 'urn:dev:1', deviceDefinitions: { nwkSKey: 'secret:dev1-nwk', appSKey: 'secret:dev1-app' } },
      { thingId: 'urn:dev:2', deviceDefinitions: { nwkSKey: 'secret:dev2-nwk', appSKey: 'secret:dev2-app' } },
    ] as unknown as DevAddrDevice);
    devices.set('26000002', { thingId: 'urn:dev:3', deviceDefinitions: { nwkSKey: 'secret:none', appSKey: 'secret:none' } });
    const p = await start();
    const f = encodeUplink({ devAddr: '26000001', fCnt: 1, fPort: 3, payload: Buffer.from('z'), keys: other });
    const g = encodeUplink({ devAddr: '26000002', fCnt: 1, fPort: 3, payload: Buffer.from('z'), keys: other });
    await nodePeer(p.address!.port, [pushData(GW1, 1, [{ phy: f }, { phy: g }])]);
    await until(() => p.stats().accepted === 1 && p.stats().keysMissing === 1);
    expect(sink.frames[0]!.frame).toMatchObject({ keyType: 'devAddr', deviceKey: '26000001' });
    expect(p.stats().keysMissing).toBe(1);
  });
});
