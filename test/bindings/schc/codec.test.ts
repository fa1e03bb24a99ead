// The schc payload codec as the uplink pipeline runs it: looked up in the registry, RuleID from the FPort (the
// schc-senml-device Thing Model's settings), its CoAP payload handed to senml-json.
import { describe, expect, it } from 'vitest';
import { payloadCodec } from '../../../hub/bindings/codecs.ts';
import { compress } from '../../../hub/bindings/schc/schc.ts';
import { openschcRule5, packet } from './fixtures.ts';

const rule = { ...openschcRule5, RuleID: 20, RuleIDLength: 8 };
const senml = [{ bn: 'urn:dev:ow:10e2073a01080063:', n: 'temp', u: 'Cel', v: 23.1, t: 1700000000 }];
const uplink = packet({
  tc: 1, flowLabel: 144470, hopLimit: 255, src: '2001:db8::1', dst: '2404:6800:4004:818::2', srcPort: 0x1630, dstPort: 0x1633,
  coap: { type: 1, code: 0x02, mid: 77, token: '01', options: [[11, 'foo'], [11, 'bar'], [11, 's'], [11, 't'], [15, 'k=v']], payload: JSON.stringify(senml) },
});

describe('schc codec in a chain', () => {
  it('schc then senml-json: the SenML records come out with the CoAP/IPv6 headers beside them', () => {
    const device = { schcRules: [rule, { RuleID: 21, RuleIDLength: 8, NoCompression: [] }], schcRuleIdFrom: 'fport' };
    const c = compress(uplink, device.schcRules, { ruleIdInFPort: true });
    expect(c.rule.ruleId).toBe(20);
    expect(c.bytes.length).toBeLessThan(uplink.length - 40);
    const schc = payloadCodec('schc').decode(c.bytes, { fPort: 20, device }) as { bytes: Uint8Array; fields: Record<string, any> };
    expect(schc.fields.ruleId).toBe(20);
    expect(schc.fields.ipv6).toMatchObject({ src: '2001:db8::1', dst: '2404:6800:4004:818::2' });
    expect(schc.fields.coap).toMatchObject({ type: 'NON', code: '0.02', messageId: 77, token: '01', uriPath: '/foo/bar/s/t', uriQuery: ['k=v'] });
    const records = payloadCodec('senml-json').decode(schc.bytes, { fPort: 20, device });
    expect(JSON.stringify(records)).toContain('urn:dev:ow:10e2073a01080063:temp');
    expect(JSON.stringify(records)).toContain('23.1');
  });

  it('the NoCompression rule on its FPort carries the packet as it is', () => {
    const device = { schcRules: [rule, { RuleID: 21, RuleIDLength: 8, NoCompression: [] }] };
    const out = payloadCodec('schc').decode(uplink, { fPort: 21, device }) as { bytes: Uint8Array; fields: Record<string, any> };
    expect(Buffer.from(out.bytes).toString()).toBe(JSON.stringify(senml));
    expect(out.fields.ruleId).toBe(21);
    expect(out.fields.udp).toMatchObject({ srcPort: 0x1630, dstPort: 0x1633 });
  });
});
