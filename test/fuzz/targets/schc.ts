// Fuzz targets: the SCHC decompressor (bit-level residues -> IPv6/UDP/CoAP, RFC 8724/8824) and the SCHC rule parser.
import { readFileSync } from 'node:fs';
import { parseRules, type Rule } from '../../../hub/bindings/schc/rules.ts';
import { compress, decompress } from '../../../hub/bindings/schc/schc.ts';
import { DecodeError } from '../../../hub/errors.ts';
import { echoRequest, leshanPacketHex, microschcComputeRule, openschcRule5, packet } from '../../bindings/schc/fixtures.ts';
import { vectorRule } from '../../bindings/schc/vector-rule.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

/**
 * Rule sets the first input byte picks from: the worked example (syntactic CoAP), openschc rule 5 + NoCompression +
 * fragmentation, microschc compute, openschc's comp-rule-100.json (IPv6/UDP/CoAP, ICMPv6, fragmentation, NoCompression).
 */
const RULE_SETS: Rule[][] = [
  parseRules([vectorRule]),
  parseRules([openschcRule5, { RuleID: 0, RuleIDLength: 3, NoCompression: [] }, { RuleID: 1, RuleIDLength: 3, Fragmentation: { FRMode: 'NoAck' } }]),
  parseRules([microschcComputeRule]),
  parseRules(JSON.parse(readFileSync(new URL('../../bindings/schc/openschc-comp-rule-100.json', import.meta.url), 'utf8'))),
];
const VECTOR_HEX =
  'c01a00800685c2184522f6f40b8300efee6629122186e5b7b22626e223a222f362f222c226e223a22302f30222c2276223a35342e307d2c7b226e223a22302f31222c2276223a34382e307d2c7b226e223a22302f35222c2276223a313636363236333333397d5d00';

/** Input: byte 0 = rule set (low 2 bits) and whether the RuleID comes as an FPort hint (bit 2, hint = byte 1); rest = packet. */
function split(input: Uint8Array): { rules: Rule[]; hint?: number; bytes: Uint8Array } {
  const sel = input[0] ?? 0;
  const rules = RULE_SETS[sel & 3]!;
  if (sel & 4) return { rules, hint: input[1] ?? 0, bytes: input.subarray(2) };
  return { rules, bytes: input.subarray(1) };
}

const withSelector = (sel: number, bytes: Uint8Array): Uint8Array => Uint8Array.from([sel, ...bytes]);

export const schcTarget: FuzzTarget = {
  name: 'schc',
  description: 'SCHC packet -> decompress with one of four rule sets (prefix or FPort RuleID); a successful decompression must survive compress -> decompress unchanged',
  seeds() {
    const rule5 = RULE_SETS[1]!;
    const uplink = packet({ tc: 1, flowLabel: 144470, hopLimit: 255, src: '2001:db8::1', dst: 'fe80::2', srcPort: 0x1637, dstPort: 0x163a,
      coap: { type: 0, code: 2, mid: 0x1234, token: 'abcd', options: [[11, 'foo'], [11, 'toto'], [11, 'x'], [11, 'yy'], [15, 'k=42']], payload: '{"t":21.5}' } });
    return [
      withSelector(0, Buffer.from(VECTOR_HEX, 'hex')),
      withSelector(1, compress(uplink, rule5).bytes),
      withSelector(1, compress(Buffer.from(uplink.subarray(0, 60)), rule5).bytes),
      withSelector(2, compress(Buffer.from(leshanPacketHex, 'hex'), RULE_SETS[2]!).bytes),
      Uint8Array.from([4 | 1, 5, ...compress(uplink, rule5, { ruleIdInFPort: true }).bytes]),
      withSelector(3, compress(echoRequest({ src: '2001:db8::79', dst: '2404:6800:4004:818::7d4', identifier: 9, sequence: 1, data: Buffer.from('ping') }), RULE_SETS[3]!).bytes),
    ];
  },
  tokens: ['\xff', '\x00', '\xf0', '\x0f', '\xa0', '\xc0'],
  generate(rng) {
    const out = new Uint8Array(1 + rng.size(96));
    for (let i = 0; i < out.length; i++) out[i] = rng.u32() & 0xff;
    return out;
  },
  run(input) {
    const { rules, hint, bytes } = split(input);
    const out = decompress(bytes, rules, hint);
    return () => {
      // Oracle (untimed): what decompression rebuilt is a packet the rules describe; if a rule compresses it again,
      // decompressing that gives the same packet back (residues, lengths, checksum and options are consistent).
      let again: Uint8Array;
      try {
        const c = compress(out, rules, { ruleIdInFPort: hint !== undefined });
        if (c.rule.kind === 'no-compression' && hint !== undefined) return;
        again = decompress(c.bytes, rules, hint === undefined ? undefined : c.rule.ruleId);
      } catch (e) {
        if (e instanceof DecodeError) return;
        throw e;
      }
      if (Buffer.compare(Buffer.from(again), Buffer.from(out)) !== 0) {
        throw new OracleError(`compress -> decompress changed the packet: ${Buffer.from(out).toString('hex')} -> ${Buffer.from(again).toString('hex')}`);
      }
    };
  },
  isTypedError: (e) => e instanceof DecodeError,
};

export const schcRulesTarget: FuzzTarget = {
  name: 'schc-rules',
  description: 'rule JSON (a TD\'s deviceDefinitions.schcRules) -> parseRules; only SchcRuleError may be thrown',
  seeds: () => [vectorRule, openschcRule5, microschcComputeRule].map((r) => new TextEncoder().encode(JSON.stringify([r]))),
  tokens: ['"FID"', '"FL"', '"FP"', '"DI"', '"TV"', '"MO"', '"CDA"', '"var"', '"tkl"', '"var-bits"', '"MSB(8)"', '"match-mapping"', '"mapping-sent"', '"LSB"', '"compute-length"', '"compute-checksum"', '"DevIID"', '"RuleIDLength"', '"NoCompression"', '"Fragmentation"', '[]', '{}', 'null', '-1', '1e9', '"::"', '"0x"'],
  run(input) {
    let json: unknown;
    try {
      json = JSON.parse(text(input));
    } catch {
      return; // not JSON: the TD parser refuses it before rules are read
    }
    parseRules(json);
  },
  isTypedError: (e) => e instanceof DecodeError,
};
