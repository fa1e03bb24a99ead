// The `schc` payload codec: decompresses an uplink with the device's rules (TD deviceDefinitions.schcRules) and hands
// the CoAP payload to the next codec in the chain (senml-json / senml-cbor), with the headers as fields.
import type { CodecContext, PayloadCodec } from '../types.ts';
import type { Layer } from './fields.ts';
import { parsePacket, ruleLayers, summarize } from './packet.ts';
import { parseRules, type Rule, SchcRuleError } from './rules.ts';
import { decompressDetailed } from './schc.ts';

/**
 * Parsed rule sets by the TD's schcRules object: a TD is replaced (not mutated) on update, so identity is its version
 * and each set is parsed and validated once, not per message.
 */
const parsed = new WeakMap<object, Rule[]>();

function rulesOf(device: Readonly<Record<string, unknown>>): Rule[] {
  const raw = device.schcRules;
  if (raw === undefined || raw === null) throw new SchcRuleError('deviceDefinitions.schcRules is missing', '(set)', 'schcRules');
  if (typeof raw !== 'object') throw new SchcRuleError('deviceDefinitions.schcRules must be an array of rules or { "SoR": [...] }', '(set)', 'schcRules');
  let rules = parsed.get(raw);
  if (!rules) {
    rules = parseRules(raw);
    parsed.set(raw, rules);
  }
  return rules;
}

function iidOf(device: Readonly<Record<string, unknown>>, name: string): Uint8Array | undefined {
  const v = device[name];
  if (typeof v !== 'string') return undefined;
  const hex = v.replace(/[-:\s]/g, '');
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new SchcRuleError(`${name} must be 8 bytes of hex`, '(set)', name);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * RuleID source: `deviceDefinitions.schcRuleIdFrom` = "fport" (RFC 9011: the LoRaWAN FPort is the RuleID, the default
 * when the frame has an FPort) or "prefix" (the packet's leading bits, the default otherwise).
 */
function ruleIdHint(context: CodecContext): number | undefined {
  const from = context.device.schcRuleIdFrom;
  if (from === 'prefix') return undefined;
  if (from === 'fport' && context.fPort === undefined) throw new SchcRuleError('schcRuleIdFrom is fport but the frame has no FPort', '(set)', 'schcRuleIdFrom');
  return context.fPort;
}

/** What a NoCompression packet carries, by its IPv6 Next Header: UDP + CoAP (17), ICMPv6 (58), else IPv6 only. */
function uncompressedLayers(packet: Uint8Array): Set<Layer> {
  const next = packet.length >= 40 ? packet[6] : undefined;
  return new Set<Layer>(next === 17 ? ['ipv6', 'udp', 'coap'] : next === 58 ? ['ipv6', 'icmpv6'] : ['ipv6']);
}

export const schcCodec: PayloadCodec = {
  name: 'schc',
  decode(bytes, context) {
    const rules = rulesOf(context.device);
    const result = decompressDetailed(bytes, rules, ruleIdHint(context), {
      direction: 'up',
      devIid: iidOf(context.device, 'schcDevIid'),
      appIid: iidOf(context.device, 'schcAppIid'),
    });
    const layers = result.rule.kind === 'compression' ? ruleLayers(result.rule) : uncompressedLayers(result.packet);
    const packet = parsePacket(result.packet, layers);
    return { bytes: packet.payload, fields: { ...summarize(packet, layers), ruleId: result.rule.ruleId } };
  },
};
