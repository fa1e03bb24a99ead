// Fuzz target: what the hub's packet-forwarder downlink path reads from outside: join-requests (parse, MIC, the join
// server's checks against a known device), join-accepts and data downlinks as a device opens them, and TX_ACK bodies.
import { readFileSync } from 'node:fs';
import { encodeDownlink, encodeJoinAccept, encodeJoinRequest, openDownlink, openJoinAccept, parsePhyPayload, type JoinRequestFrame } from '../../../hub/bindings/lorawan/index.ts';
import { NetworkState, OtaaJoinServer } from '../../../hub/bindings/semtech-udp/join.ts';
import { parseDatagram, readTxAck } from '../../../hub/bindings/semtech-udp/protocol.ts';
import type { DeviceEntry } from '../../../hub/bindings/types.ts';
import { HubError } from '../../../hub/errors.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const appKey = Buffer.from('98929b92c49edba9676d646d3b612456', 'hex');
const keys = { nwkSKey: Buffer.alloc(16, 0x11), appSKey: Buffer.alloc(16, 0x22) };
const DEV_EUI = '3331383274356905';
const entry: DeviceEntry = { thingId: 'urn:fuzz', adapterId: 'urn:fuzz#lora', keyType: 'devEui', deviceKey: DEV_EUI, interfaceType: 'uplink_triggered', deviceDefinitions: { devEui: DEV_EUI, appKey: 'secret:k' }, codecs: [] };
// Memory-only state, bounded per device (1,024 DevNonces): a long run cannot grow it without limit.
const server = new OtaaJoinServer({ state: new NetworkState(), secrets: { secret: () => Buffer.from(appKey) }, lookup: (t, k) => (t === 'devEui' && k === DEV_EUI ? entry : undefined) });

export const lorawanDownlinkTarget: FuzzTarget = {
  name: 'lorawan-downlink',
  description: 'join-request -> OtaaJoinServer.join (MIC, DevNonce, accept); openJoinAccept / openDownlink of any PHYPayload; TX_ACK datagrams -> readTxAck',
  seeds() {
    const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/lorawan.json', import.meta.url), 'utf8')) as Array<{ input: Record<string, unknown> }>;
    const out: Uint8Array[] = vectors.filter((v) => typeof v.input.phyPayloadHex === 'string').map((v) => Buffer.from(String(v.input.phyPayloadHex), 'hex'));
    out.push(encodeJoinRequest({ joinEui: 'AA13693363343639', devEui: DEV_EUI, devNonce: '0102', appKey }));
    out.push(encodeJoinAccept({ appNonce: 5, netId: 0, devAddr: 0x01234567, rx1DrOffset: 0, rx2DataRate: 0, rxDelay: 1 }, appKey));
    out.push(encodeDownlink({ devAddr: '260B0042', fCnt: 3, fPort: 5, payload: Buffer.from('0102', 'hex'), confirmed: true, keys }));
    out.push(Buffer.concat([Buffer.from('02abcd05aa555a0000000001', 'hex'), Buffer.from('{"txpk_ack":{"error":"TOO_LATE"}}')]));
    return out;
  },
  tokens: ['\x00', '\x20', '\x60', '\xa0', '\x05', '"txpk_ack"', '"error"', '"warn"', '"NONE"', '"TOO_LATE"', '{', '}'],
  generate(rng) {
    const nonce = rng.int(0x10000).toString(16).padStart(4, '0');
    return encodeJoinRequest({ joinEui: 'AA13693363343639', devEui: rng.chance(0.8) ? DEV_EUI : '0000000000000001', devNonce: nonce, appKey: rng.chance(0.9) ? appKey : Buffer.alloc(16) });
  },
  generateRatio: 0.2,
  async run(input) {
    if (input.length >= 4 && (input[0] === 1 || input[0] === 2) && input[3] === 5) {
      const d = parseDatagram(input);
      const outcome = readTxAck(d.json);
      if (typeof outcome.accepted !== 'boolean') throw new OracleError('TX_ACK outcome without a verdict');
      return;
    }
    const frame = parsePhyPayload(input);
    if (frame.kind === 'join-request') {
      try {
        const r = await server.join(frame as JoinRequestFrame);
        const o = openJoinAccept(r.phy, appKey, frame.devNonce);
        if (o.keys.nwkSKey.toString('hex') !== r.session.nwkSKey) throw new OracleError('the device derives other keys than the server stored');
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
      }
      return;
    }
    if (frame.kind === 'join-accept') {
      try {
        openJoinAccept(input, appKey, '0102');
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
      }
      return;
    }
    if (frame.kind === 'data' && !frame.uplink) {
      try {
        const o = openDownlink(input, keys, frame.fCnt16 > 2 ? frame.fCnt16 - 2 : undefined);
        const again = encodeDownlink({ devAddr: frame.devAddr, fCnt: o.fCnt, fPort: frame.fPort, payload: o.payload, fOpts: frame.fOpts, confirmed: frame.confirmed, ack: frame.fCtrl.ack, fPending: frame.fCtrl.classBOrFPending, adr: frame.fCtrl.adr, keys });
        if ((input[0]! & 0x1c) === 0 && !frame.fCtrl.adrAckReq && !again.equals(Buffer.from(input))) throw new OracleError('encodeDownlink(openDownlink(x)) != x');
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
      }
    }
  },
};
