// Fuzz target: OSC datagrams as the UDP listener reads them -> decodeOscPacket -> NGIMU naming -> oscFrame; the fast
// message path is checked against osc-min (the oracle) whenever both accept a message.
import { readFileSync } from 'node:fs';
import { toBuffer } from 'osc-min';
import { argNames, namingOf, oscFrame } from '../../../hub/bindings/osc/codec.ts';
import { decodeMessageFast, decodeMessageOscMin, decodeOscPacket } from '../../../hub/bindings/osc/packet.ts';
import { HubError } from '../../../hub/errors.ts';
import { ngimuBundle } from '../../../hub/simulators/ngimu.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const NGIMU = namingOf({ oscSchema: 'ngimu' });
const MESSAGE_ID = /^[A-Za-z0-9._~-]{1,200}$/;
const view = (v: DataView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

export const oscTarget: FuzzTarget = {
  name: 'osc',
  description: 'OSC datagram -> decodeOscPacket (bundle walk, fast path, osc-min) -> NGIMU names -> oscFrame; fast path == osc-min; frame invariants',
  seeds() {
    const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/osc.json', import.meta.url), 'utf8')) as Array<{ input: { hex?: string } }>;
    return [
      ...vectors.filter((v) => v.input.hex).map((v) => new Uint8Array(Buffer.from(v.input.hex!, 'hex'))),
      ...['/sensors', '/quaternion', '/battery', '/temperature'].map((a) => new Uint8Array(ngimuBundle(a, Date.UTC(2026, 0, 1), 1.5))),
      view(toBuffer({ timetag: [3900000000, 7], elements: [{ address: '/a', args: [{ type: 'integer', value: 1 }] }, { timetag: [3900000001, 0], elements: [{ address: '/b', args: [{ type: 'string', value: 'x' }, { type: 'double', value: 2.5 }] }] }] })),
      view(toBuffer({ address: '/t', args: [{ type: 'bigint', value: 5n }, { type: 'timetag', value: [3900000000, 1] }, { type: 'blob', value: new Uint8Array([1, 2]) }, { type: 'array', value: [{ type: 'true' }] }] })),
    ];
  },
  tokens: ['#bundle\0', ',fff', ',s\0\0', ',iisff', '\0\0\0\0', '\0\0\0\x1c', '\xff\xff\xff\xff', '/euler\0\0', '[', ']', ',h', ',b', ',t', '\x7f\x80\0\0'],
  run(input) {
    const messages = decodeOscPacket(input);
    // Oracle: a lone message both decoders accept decodes alike (osc-min's floats compared as the fast path writes them).
    if (input.length > 0 && input[0] === 0x2f) {
      let fast;
      try {
        fast = decodeMessageFast(input, 0, input.length);
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
      }
      if (fast) {
        let slow;
        try {
          slow = decodeMessageOscMin(input, 0);
        } catch (e) {
          if (!(e instanceof HubError)) throw e;
        }
        if (slow && JSON.stringify(slow) !== JSON.stringify(fast)) throw new OracleError(`fast path ${JSON.stringify(fast).slice(0, 200)} != osc-min ${JSON.stringify(slow).slice(0, 200)}`);
      }
    }
    for (const m of messages) {
      const frame = oscFrame(m, { keyType: 'oscSource', deviceKey: '127.0.0.1:9000' }, argNames(NGIMU, m.address), { receivedAt: 1_700_000_000_000, seq: m.index });
      if (!MESSAGE_ID.test(frame.messageId)) throw new OracleError(`messageId '${frame.messageId.slice(0, 80)}' is not IRI-safe`);
      if (frame.observedAt !== undefined && Number.isNaN(Date.parse(frame.observedAt.replace(/(\.\d{3})\d+Z$/, '$1Z')))) throw new OracleError(`observedAt '${frame.observedAt}' is no time`);
      JSON.stringify(frame.decoded);
    }
  },
};
