// RML-FNML function library: a registry of functions by IRI plus the built-ins a hub needs (units, numbers, strings, times).
import { DataFactory } from 'n3';
import { MappingError } from '../errors.ts';
import { HUB_NS } from '../store/graphs.ts';
import { lexical } from './terms.ts';
import { XSD } from './vocab.ts';

/** GREL functions as published for FnO (https://users.ugent.be/~bjdmeest/function/grel.ttl), the ones YARRRML uses. */
export const GREL = 'http://users.ugent.be/~bjdmeest/function/grel.ttl#';
const H = HUB_NS;

/**
 * A function usable in rml:functionExecution / fnml:functionValue. `parameters` are the parameter IRIs, in the order
 * `fn` receives them; a parameter the mapfile does not bind arrives as undefined. `fn` returns a JSON scalar (numbers
 * become xsd:integer / xsd:double literals), an RDF/JS term, or undefined for "no value".
 */
export interface MappingFunction {
  parameters: string[];
  fn: (...args: unknown[]) => unknown;
}

/**
 * Functions by IRI (RML-FNML, https://w3id.org/rml/fnml/spec). To add one:
 * `registry.register('https://example.org/fn#double', { parameters: ['https://example.org/fn#x'], fn: (x) => 2 * Number(x) })`
 * and pass the registry to compileMapping (or to the MappingRegistry) before mapfiles that use it are compiled.
 */
export class FunctionRegistry {
  private readonly fns = new Map<string, MappingFunction>();

  register(iri: string, fn: MappingFunction): this {
    this.fns.set(iri, fn);
    return this;
  }

  get(iri: string): MappingFunction | undefined {
    return this.fns.get(iri);
  }

  has(iri: string): boolean {
    return this.fns.has(iri);
  }

  list(): string[] {
    return [...this.fns.keys()];
  }
}

function num(v: unknown, what = 'value'): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n)) throw new MappingError(`Function input ${what} '${String(v)}' is not a number`, { term: what }, {}, 'mapping-failed');
  return n;
}

/** Linear unit conversions to an SI base (factor, offset): si = v * factor + offset. QUDT local names and UCUM-ish codes. */
const UNITS: Record<string, [number, number]> = {
  K: [1, 0], DEG_C: [1, 273.15], degC: [1, 273.15], Cel: [1, 273.15], DEG_F: [5 / 9, 273.15 - (32 * 5) / 9], degF: [5 / 9, 273.15 - (32 * 5) / 9],
  'M-PER-SEC': [1, 0], 'm/s': [1, 0], 'KiloM-PER-HR': [1 / 3.6, 0], 'km/h': [1 / 3.6, 0], 'MI-PER-HR': [0.44704, 0], mph: [0.44704, 0],
  PA: [1, 0], Pa: [1, 0], HectoPA: [100, 0], hPa: [100, 0], KiloPA: [1000, 0], kPa: [1000, 0], BAR: [1e5, 0], bar: [1e5, 0],
  M: [1, 0], m: [1, 0], KiloM: [1000, 0], km: [1000, 0], FT: [0.3048, 0], ft: [0.3048, 0], MI: [1609.344, 0], mi: [1609.344, 0],
  GM: [1e-3, 0], g: [1e-3, 0], KiloGM: [1, 0], kg: [1, 0], LB: [0.45359237, 0], lb: [0.45359237, 0],
  PERCENT: [0.01, 0], '%': [0.01, 0], UNITLESS: [1, 0], '1': [1, 0], V: [1, 0], MilliV: [1e-3, 0], mV: [1e-3, 0],
};

function unitKey(u: unknown): string {
  const s = lexical(u);
  const local = s.startsWith('http') ? s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf('#')) + 1) : s;
  if (!UNITS[local]) throw new MappingError(`Unknown unit '${s}'`, { term: s }, {}, 'mapping-failed');
  return local;
}

/** Unit symbols devices send -> [QUDT unit local name, UN/CEFACT common code (NGSI-LD unitCode)]. */
export const UNIT_CODES: Record<string, [string, string | undefined]> = {
  degC: ['DEG_C', 'CEL'], Cel: ['DEG_C', 'CEL'], '°C': ['DEG_C', 'CEL'], degF: ['DEG_F', 'FAH'], K: ['K', 'KEL'],
  '%': ['PERCENT', 'P1'], 'km/h': ['KiloM-PER-HR', 'KMH'], 'm/s': ['M-PER-SEC', 'MTS'], rpm: ['REV-PER-MIN', 'RPM'],
  'g/s': ['GM-PER-SEC', 'F28'], s: ['SEC', 'SEC'], min: ['MIN', 'MIN'], 'L/h': ['L-PER-HR', 'E32'], kPa: ['KiloPA', 'KPA'],
  hPa: ['HectoPA', 'A97'], Pa: ['PA', 'PAL'], V: ['V', 'VLT'], mV: ['MilliV', '2Z'], A: ['A', 'AMP'], mA: ['MilliA', '4K'],
  dBm: ['DeciB_M', undefined], dB: ['DeciB', '2N'], deg: ['DEG', 'DD'], g: ['G', undefined], lux: ['LUX', 'LUX'], m: ['M', 'MTR'],
  km: ['KiloM', 'KTM'], Nm: ['N-M', 'NU'], '1': ['UNITLESS', 'C62'],
};

function unitTerm(v: unknown, _i: number): unknown {
  const u = UNIT_CODES[lexical(v)];
  return u ? DataFactory.namedNode(`http://qudt.org/vocab/unit/${u[0]}`) : undefined;
}

/** Times: ISO 8601 strings, epoch seconds (< 1e11) or epoch milliseconds -> xsd:dateTime in UTC. */
export function toDateTime(v: unknown): string {
  let d: Date;
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()))) {
    const n = Number(v);
    d = new Date(n < 1e11 ? n * 1000 : n);
  } else d = new Date(lexical(v));
  if (Number.isNaN(d.getTime())) throw new MappingError(`'${lexical(v)}' is not a time`, { term: lexical(v) }, {}, 'mapping-failed');
  return d.toISOString();
}

/** The built-in library; see ontologies/hub.ttl for the hub: function and parameter IRIs. */
export function builtinFunctions(): FunctionRegistry {
  const r = new FunctionRegistry();
  const str = (v: unknown): string | undefined => (v === undefined ? undefined : lexical(v));
  const V = `${GREL}valueParameter`;
  r.register(`${GREL}toUpperCase`, { parameters: [V], fn: (v) => str(v)?.toUpperCase() });
  r.register(`${GREL}toLowerCase`, { parameters: [V], fn: (v) => str(v)?.toLowerCase() });
  r.register(`${GREL}string_trim`, { parameters: [V], fn: (v) => str(v)?.trim() });
  r.register(`${GREL}string_length`, { parameters: [V], fn: (v) => str(v)?.length });
  r.register(`${GREL}string_replace`, {
    parameters: [V, `${GREL}param_find`, `${GREL}param_replace`],
    fn: (v, find, rep) => str(v)?.split(lexical(find)).join(rep === undefined ? '' : lexical(rep)),
  });
  r.register(`${GREL}string_substring`, {
    parameters: [V, `${GREL}param_int_i_from`, `${GREL}param_int_i_opt_to`],
    fn: (v, from, to) => str(v)?.substring(num(from, 'from'), to === undefined ? undefined : num(to, 'to')),
  });
  r.register(`${GREL}string_contains`, { parameters: [V, `${GREL}string_sub`], fn: (v, sub) => str(v)?.includes(lexical(sub)) });
  r.register(`${GREL}array_join`, {
    parameters: [`${GREL}p_array_a`, `${GREL}p_string_sep`],
    fn: (a, sep) => (Array.isArray(a) ? a.map(lexical).join(sep === undefined ? '' : lexical(sep)) : str(a)),
  });
  r.register(`${GREL}math_round`, { parameters: [`${GREL}p_dec_n`], fn: (n) => Math.round(num(n)) });
  r.register(`${GREL}math_floor`, { parameters: [`${GREL}p_dec_n`], fn: (n) => Math.floor(num(n)) });
  r.register(`${GREL}math_ceil`, { parameters: [`${GREL}p_dec_n`], fn: (n) => Math.ceil(num(n)) });

  const HV = `${H}value`;
  r.register(`${H}parseNumber`, { parameters: [HV], fn: (v) => num(v) });
  r.register(`${H}hexToInteger`, {
    parameters: [HV],
    fn: (v) => {
      const n = Number.parseInt(lexical(v), 16);
      if (Number.isNaN(n)) throw new MappingError(`'${lexical(v)}' is not hexadecimal`, { term: lexical(v) }, {}, 'mapping-failed');
      return n;
    },
  });
  r.register(`${H}scale`, {
    parameters: [HV, `${H}factor`, `${H}offset`],
    fn: (v, f, o) => num(v) * (f === undefined ? 1 : num(f, 'factor')) + (o === undefined ? 0 : num(o, 'offset')),
  });
  r.register(`${H}round`, {
    parameters: [HV, `${H}digits`],
    fn: (v, d) => {
      const p = 10 ** (d === undefined ? 0 : num(d, 'digits'));
      return Math.round(num(v) * p) / p;
    },
  });
  r.register(`${H}convertUnit`, {
    parameters: [HV, `${H}fromUnit`, `${H}toUnit`],
    fn: (v, from, to) => {
      const [fa, fo] = UNITS[unitKey(from)]!;
      const [ta, to0] = UNITS[unitKey(to)]!;
      return Math.round((((num(v) * fa + fo) - to0) / ta) * 1e9) / 1e9;
    },
  });
  r.register(`${H}toDateTime`, {
    parameters: [HV],
    fn: (v) => DataFactory.literal(toDateTime(v), DataFactory.namedNode(`${XSD}dateTime`)),
  });
  r.register(`${H}qudtUnit`, { parameters: [HV], fn: (v) => unitTerm(v, 0) });
  r.register(`${H}unitCode`, { parameters: [HV], fn: (v) => UNIT_CODES[lexical(v)]?.[1] });
  r.register(`${H}concat`, {
    parameters: [HV, `${H}value2`, `${H}separator`],
    fn: (a, b, sep) => [a, b].filter((x) => x !== undefined).map(lexical).join(sep === undefined ? '' : lexical(sep)),
  });
  return r;
}
