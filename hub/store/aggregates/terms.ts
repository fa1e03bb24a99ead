// Literal forms for the aggregates: Oxigraph's canonical lexical forms of the numbers and times it stores natively.
//
// Oxigraph stores xsd:double/decimal/integer/dateTime literals as values and writes them back canonically ("21.50"
// becomes "21.5", "...00.000Z" becomes "...00Z"), so an answer built from the text written must use the same forms.
// Only the forms checked against Oxigraph in test/store/aggregates-terms.test.ts are accepted; any other literal of these
// types is "unsupported" and makes its graph irregular (its queries go to the store).
import type { JsonTerm } from '../quad-store.ts';

export const XSD = 'http://www.w3.org/2001/XMLSchema#';
export const XSD_DOUBLE = `${XSD}double`;
export const XSD_DECIMAL = `${XSD}decimal`;
export const XSD_INTEGER = `${XSD}integer`;
export const XSD_DATETIME = `${XSD}dateTime`;
export const XSD_STRING = `${XSD}string`;

/** How a result value takes part in SUM/AVG/MIN/MAX. */
export const enum Kind {
  /** Not numeric (a string): AVG/SUM of a group holding one is an error (unbound), COUNT still counts it. */
  Other = 0,
  Integer = 1,
  Decimal = 2,
  Double = 3,
}

/** A result value: its canonical term, kind, value as a double, and exact value in 1e-18 units for integer/decimal. */
export interface Value {
  term: JsonTerm;
  kind: Kind;
  num: number;
  scaled?: bigint;
}

const DOUBLE = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const I64 = 2n ** 63n;
export const SCALE = 10n ** 18n;

/** Rust's f64 Display (what Oxigraph writes): the shortest round-trip digits, never an exponent. */
export function canonicalDouble(x: number): string | undefined {
  if (!Number.isFinite(x)) return undefined;
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s[0] === '-';
  const mant = s.slice(neg ? 1 : 0, e).replace('.', '');
  const exp = Number(s.slice(e + 1));
  const point = (s.slice(neg ? 1 : 0, e).indexOf('.') + 1 || e + 1 - (neg ? 1 : 0)) - 1 + exp;
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${mant}` : point >= mant.length ? mant + '0'.repeat(point - mant.length) : `${mant.slice(0, point)}.${mant.slice(point)}`;
  return neg ? `-${body}` : body;
}

/** Canonical decimal text of a value in 1e-18 units: no trailing zeros, no point when whole. */
export function decimalText(scaled: bigint): string {
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  const int = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(18, '0').replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : `${int}`;
  return neg && abs !== 0n ? `-${body}` : body;
}

function parseDecimal(lex: string): bigint | undefined {
  if (!DECIMAL.test(lex)) return undefined;
  const neg = lex[0] === '-';
  const s = lex.replace(/^[+-]/, '');
  const [i = '', f = ''] = s.split('.');
  if (f.length > 18 || i.length > 20) return undefined;
  const scaled = BigInt(i || '0') * SCALE + BigInt((f + '0'.repeat(18)).slice(0, 18));
  return neg ? -scaled : scaled;
}

/** The value of a hasSimpleResult literal, or undefined when its form is not one the aggregates can reproduce. */
export function literalValue(lex: string, datatype: string | undefined, lang: string | undefined): Value | undefined {
  if (lang !== undefined) return undefined;
  if (datatype === undefined || datatype === XSD_STRING) return { term: { type: 'literal', value: lex }, kind: Kind.Other, num: NaN };
  if (datatype === XSD_DOUBLE) {
    const num = Number(lex);
    // Fast path: text already in Oxigraph's form ("21.5"): Number() accepted it and writes it back unchanged.
    if (lex.length > 0 && String(num) === lex && lex.indexOf('e') < 0 && lex !== 'Infinity' && lex !== 'NaN') {
      return { term: { type: 'literal', value: lex, datatype: XSD_DOUBLE }, kind: Kind.Double, num };
    }
    if (!DOUBLE.test(lex)) return undefined;
    const text = canonicalDouble(num);
    return text === undefined ? undefined : { term: { type: 'literal', value: text, datatype: XSD_DOUBLE }, kind: Kind.Double, num };
  }
  if (datatype === XSD_INTEGER) {
    if (!INTEGER.test(lex) || lex.length > 20) return undefined;
    const n = BigInt(lex);
    if (n >= I64 || n < -I64) return undefined;
    return { term: { type: 'literal', value: n.toString(), datatype: XSD_INTEGER }, kind: Kind.Integer, num: Number(n), scaled: n * SCALE };
  }
  if (datatype === XSD_DECIMAL) {
    const scaled = parseDecimal(lex);
    if (scaled === undefined) return undefined;
    return { term: { type: 'literal', value: decimalText(scaled), datatype: XSD_DECIMAL }, kind: Kind.Decimal, num: Number(decimalText(scaled)), scaled };
  }
  return undefined;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits at text[i, i+n) as a number, or -1. */
function digits(t: string, i: number, n: number): number {
  let v = 0;
  for (let j = i; j < i + n; j++) {
    const c = t.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * A resultTime: epoch milliseconds and the canonical term; undefined unless a UTC ('Z') xsd:dateTime
 * YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z (read by hand: it is on the insert path).
 */
export function timeValue(lex: string, datatype: string | undefined): { ms: number; term: JsonTerm } | undefined {
  if (datatype !== XSD_DATETIME || lex.length < 20 || lex.length > 24 || lex.charCodeAt(lex.length - 1) !== 90 /* Z */) return undefined;
  if (lex[4] !== '-' || lex[7] !== '-' || lex[10] !== 'T' || lex[13] !== ':' || lex[16] !== ':') return undefined;
  const y = digits(lex, 0, 4), mo = digits(lex, 5, 2), d = digits(lex, 8, 2), h = digits(lex, 11, 2), mi = digits(lex, 14, 2), s = digits(lex, 17, 2);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]! || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0) return undefined;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return undefined;
  let frac = '';
  if (lex.length > 20) {
    if (lex[19] !== '.' || lex.length === 21) return undefined;
    frac = lex.slice(20, -1);
    if (digits(frac, 0, frac.length) < 0) return undefined;
  }
  const ms = daysFromCivil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + (frac ? Number(frac.padEnd(3, '0')) : 0);
  let f = frac;
  while (f.endsWith('0')) f = f.slice(0, -1);
  const value = frac === f ? lex : `${lex.slice(0, 19)}${f ? `.${f}` : ''}Z`;
  return { ms, term: { type: 'literal', value, datatype: XSD_DATETIME } };
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): Date.UTC without its cost. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
