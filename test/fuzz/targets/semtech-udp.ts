// Fuzz target: packet-forwarder datagrams as the UDP listener reads them (header, JSON, rxpk, stat, txpk_ack, PHYPayloads).
import { readFileSync } from 'node:fs';
import { parsePhyPayload } from '../../../hub/bindings/lorawan/phy-payload.ts';
import { ackFor, parseDatagram, readRxpk, readStat, readTxAck } from '../../../hub/bindings/semtech-udp/protocol.ts';
import { HubError } from '../../../hub/errors.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

export const semtechUdpTarget: FuzzTarget = {
  name: 'semtech-udp',
  description: 'UDP datagram -> parseDatagram -> ackFor / readRxpk / readStat / readTxAck -> parsePhyPayload per rxpk',
  seeds() {
    const all = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ kind: string; input: Record<string, unknown> }>;
    return all
      .filter((v) => v.kind.startsWith('semtech'))
      .map((v) => Buffer.from(String(v.input.datagram_hex ?? v.input.datagram_hex_constructed ?? ''), 'hex'));
  },
  tokens: ['"rxpk"', '"stat"', '"txpk_ack"', '"data"', '"size"', '"rsig"', '"datr"', '"SF7BW125"', '"time"', '-1', '1e999', '[', '{', '==', '\x02', '\x00'],
  run(input) {
    const d = parseDatagram(input);
    const ack = ackFor(d);
    if (ack && (ack[1] !== d.token[0] || ack[2] !== d.token[1])) throw new OracleError('ack token differs');
    if (!d.json) return;
    readStat(d.json);
    readTxAck(d.json);
    const { packets } = readRxpk(d.json, d.gatewayEui ?? '0000000000000000');
    for (const p of packets) {
      try {
        parsePhyPayload(p.phy);
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
      }
    }
  },
};
