// Fuzz target: OBD-II text as the hub meets it: an ELM327 reply (parseElmReply, then the mode 01/03/07/09 decoders),
// NMEA sentences (parseNmea) and an in-vehicle gateway's obd/{vin}/up message (decodeObdGatewayMessage); the same
// reply as the answer to each OBD action (outcomeOf: readDtcs, clearDtcs, readVin, pollPid).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OBD_ACTIONS, outcomeOf } from '../../../hub/bindings/obd/downlink.ts';
import { parseElmReply } from '../../../hub/bindings/obd/elm327.ts';
import { decodeObdGatewayMessage } from '../../../hub/bindings/obd/gateway.ts';
import { parseNmea } from '../../../hub/bindings/obd/gps.ts';
import { decodeDtcs, decodeMode01, decodeVin } from '../../../hub/bindings/obd/pids.ts';
import { DecodeError } from '../../../hub/errors.ts';
import { enc, SHARED } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

const TOPIC = 'obd/1D4GP00R55B123456/up';
const SEEDS = [
  '7E8 03 41 0D 32\r\n7E9 03 41 0D 32\r\n\r\n>',
  '7E8100B4902013144344750\r\n7E82130305235354231\r\n7E8223233343536\r\n>',
  '014\r\n0: 49 02 01 31 44 34\r\n1: 47 50 30 30 52 35 35\r\n2: 42 31 32 33 34 35 36\r\n>',
  'SEARCHING...\r\nNO DATA\r\n>',
  'BUS INIT: ...ERROR\r\nCAN ERROR\r\nSTOPPED\r\nBUFFER FULL\r\n?\r\n>',
  '7E8 06 43 02 01 33 C1 23\r\n7E8 03 47 00\r\n>',
  '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47',
  '7E8 03 41 0D 3C\r\n7E8 04 41 0C 1A F8\r\n$GPRMC,093000.00,A,5231.2000,N,01324.3000,E,32.4,45.0,010626,,,A*5E',
  // Action replies: mode 04 acks, a negative response, a legacy (non-CAN) mode 03 reply, a bitmap.
  '7E8 01 44\r\n7E9 01 44\r\n>',
  '7E8 03 7F 04 22\r\n>',
  '43 01 33 00 00 00 00\r\n>',
  '7E8 06 41 00 BE 3F A8 13\r\n7E9 06 41 00 00 18 00 00\r\n>',
];

/** The action requests the reply is fed to (pollPid with the PIDs the seeds answer). */
const ACTIONS: Array<[string, unknown, string[]]> = [
  ['readDtcs', null, ['03', '07']],
  ['readDiagnosticCodes', null, ['03']],
  ['clearDtcs', { confirm: true }, ['04']],
  ['readVin', null, ['0902']],
  ...['0D', '0C', '00', '5C', 'A6'].map((pid): [string, unknown, string[]] => ['pollPid', { pid }, [`01${pid}`]]),
];
const DTC = /^[PCBU][0-9A-F]{4}$/;

function vectorSeeds(): string[] {
  try {
    const vectors = JSON.parse(readFileSync(join(SHARED, 'vectors/obd2.json'), 'utf8')) as Array<{ input: Record<string, unknown> }>;
    const out: string[] = [];
    for (const v of vectors) {
      for (const value of Object.values(v.input)) {
        if (typeof value === 'string') out.push(value);
        else if (Array.isArray(value)) out.push(value.filter((l) => typeof l === 'string').join('\r\n'));
      }
    }
    return out;
  } catch {
    return [];
  }
}

const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

export const obdTarget: FuzzTarget = {
  name: 'obd',
  description: 'ELM327 reply text -> parseElmReply -> mode 01/03/07/09 decoders; NMEA lines -> parseNmea; obd/{vin}/up -> decodeObdGatewayMessage',
  tokens: ['7E8', '7E9', '18DAF110', ' 41 ', '43', '49 02', '10 14', '21', '0:', 'NO DATA', 'SEARCHING...', '>', '\r\n', '$GPRMC,', '$GPGGA,', '*6A', ',N,', ',E,'],
  seeds: () => [...SEEDS, ...vectorSeeds()].map(enc),
  run(input) {
    const t = text(input);
    for (const headers of [true, false, 'auto'] as const) {
      const reply = parseElmReply(t, { headers });
      for (const m of reply.messages) {
        if (m.data.length === 0 || m.data.length > 4095) throw new OracleError(`message of ${m.data.length} bytes`);
        try {
          if (m.data[0] === 0x41) {
            const r = decodeMode01(m.data);
            if ('value' in r && !finite(r.value)) throw new OracleError(`PID ${r.pid} decoded to ${r.value}`);
          } else if (m.data[0] === 0x43 || m.data[0] === 0x47) {
            for (const d of decodeDtcs(m.data).dtcs) if (!/^[PCBU][0-9A-F]{4}$/.test(d)) throw new OracleError(`DTC ${d}`);
          } else if (m.data[0] === 0x49) {
            const vin = decodeVin(m.data);
            if (vin.length > 32) throw new OracleError('VIN too long');
          }
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
      for (const inv of reply.invalid) if (!inv.reason) throw new OracleError('invalid frame without a reason');
      // A status line is never data: no message may come from a line that is a status.
      if (reply.statuses.some((s) => !s.text)) throw new OracleError('empty status');
    }
    for (const line of t.split(/[\r\n]+/).slice(0, 64)) {
      if (!line.trimStart().startsWith('$')) continue;
      try {
        const s = parseNmea(line);
        if (s.type !== 'other' && (Math.abs(s.latitude) > 90 || Math.abs(s.longitude) > 180)) throw new OracleError(`position ${s.latitude},${s.longitude}`);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
    // Each action's reading of the reply (the second request of readDtcs gets the same text): a bounded, JSON-safe outcome.
    for (const [action, actionInput, requests] of ACTIONS) {
      if (!OBD_ACTIONS.has(action)) throw new OracleError(`${action} is not an OBD action`);
      const o = outcomeOf(action, actionInput, requests.map((request) => ({ request, text: t, reply: parseElmReply(t, { headers: 'auto', request }) })));
      if (o.status !== 'DELIVERED' && o.status !== 'FAILED') throw new OracleError(`${action}: status ${o.status}`);
      if (typeof o.evidence !== 'string' || o.evidence.length > 1000) throw new OracleError(`${action}: evidence of ${o.evidence?.length} characters`);
      if (o.status === 'FAILED' && o.output !== undefined) throw new OracleError(`${action}: FAILED with an output`);
      if (o.status === 'DELIVERED') {
        const out = JSON.parse(JSON.stringify(o.output ?? null)) as Record<string, unknown> | string[] | null;
        if (out === null) throw new OracleError(`${action}: DELIVERED without an output`);
        const codes = Array.isArray(out) ? out : [...((out.dtcs as string[]) ?? []), ...((out.pendingDtcs as string[]) ?? [])];
        for (const d of codes) if (!DTC.test(d)) throw new OracleError(`${action}: DTC ${d}`);
        if (!Array.isArray(out) && out.vin !== undefined && !/^[A-HJ-NPR-Z0-9]{17}$/.test(String(out.vin))) throw new OracleError(`VIN ${out.vin}`);
        if (!Array.isArray(out) && out.value !== undefined && !finite(out.value)) throw new OracleError(`${action}: value ${out.value}`);
      }
    }
    const frame = decodeObdGatewayMessage(TOPIC, input, 0);
    if (frame.keyType !== 'vin' || !/^[A-Za-z0-9._~-]+$/.test(frame.messageId)) throw new OracleError(`frame ${frame.keyType} ${frame.messageId}`);
    if (frame.location && (!finite(frame.location.latitude) || !finite(frame.location.longitude))) throw new OracleError('location not finite');
    for (const [k, v] of Object.entries(frame.decoded ?? {})) if (typeof v === 'number' && !finite(v)) throw new OracleError(`${k} = ${v}`);
  },
};
