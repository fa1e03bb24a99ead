// RDF term construction rules of RML-Core: IRI-safe template values, base IRIs, natural datatypes, language tags.
import { DataFactory } from 'n3';
import type { Literal, NamedNode, Term } from '@rdfjs/types';
import { XSD } from './vocab.ts';

const { namedNode, literal } = DataFactory;

export const XSD_INTEGER = namedNode(`${XSD}integer`);
export const XSD_DOUBLE = namedNode(`${XSD}double`);
export const XSD_BOOLEAN = namedNode(`${XSD}boolean`);
export const XSD_STRING = `${XSD}string`;

/** True for RDF/JS terms (constants and function results), as opposed to raw JSON/CSV values. */
export function isTerm(v: unknown): v is Term {
  return typeof v === 'object' && v !== null && typeof (v as Term).termType === 'string' && 'value' in (v as object);
}

/** The lexical form of a raw value (JSON scalar, CSV cell) or of a term. */
export function lexical(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isTerm(v)) return v.value;
  return String(v);
}

/**
 * Percent-encodes every character that is not iunreserved (RFC 3987), as RML-Core's IRI-safe function requires for
 * template values in IRIs. Only ASCII letters, digits and `-._~` pass; non-ASCII characters are encoded as UTF-8 octets
 * (the RML-Core test cases expect `Zo%C3%AB`, unlike R2RML which kept ucschar).
 */
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const SAFE = new Uint8Array(128).map((_, c) => (UNRESERVED.test(String.fromCharCode(c)) ? 1 : 0));
const PCT = Array.from({ length: 128 }, (_, c) => `%${c.toString(16).toUpperCase().padStart(2, '0')}`);

export function iriSafe(value: string): string {
  // One pass over the UTF-16 units with a lookup table: most values (ids, numbers, timestamps) are ASCII.
  let out = '';
  let start = 0;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c >= 128) return iriSafeUnicode(value);
    if (SAFE[c] === 1) continue;
    out += value.slice(start, i) + PCT[c];
    start = i + 1;
  }
  return start === 0 ? value : out + value.slice(start);
}

function iriSafeUnicode(value: string): string {
  let out = '';
  for (const ch of value) {
    if (ch.length === 1 && ch.charCodeAt(0) < 128) out += SAFE[ch.charCodeAt(0)] === 1 ? ch : PCT[ch.charCodeAt(0)];
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const INVALID_IRI_CHAR = /[\u0000-\u0020<>"{}|^`\\]/;

/** An absolute IRI from a generated value: relative values are prefixed with the base IRI (RML-Core "base IRI"). */
export function toIri(value: string, base: string | undefined): string | undefined {
  const iri = ABSOLUTE.test(value) ? value : base ? base + value : undefined;
  if (iri === undefined || INVALID_IRI_CHAR.test(iri)) return undefined;
  return iri;
}

/** Like toIri for rml:UnsafeIRI: no validation beyond being absolute after applying the base. */
export function toUnsafeIri(value: string, base: string | undefined): string | undefined {
  return ABSOLUTE.test(value) ? value : base ? base + value : undefined;
}

/** Natural RDF literal of a JSON value (RML-Core: numbers -> xsd:integer / xsd:double, booleans -> xsd:boolean). */
export function naturalLiteral(v: unknown): Literal {
  if (typeof v === 'number') return literal(String(v), Number.isInteger(v) ? XSD_INTEGER : XSD_DOUBLE);
  if (typeof v === 'boolean') return literal(v ? 'true' : 'false', XSD_BOOLEAN);
  if (typeof v === 'bigint') return literal(v.toString(), XSD_INTEGER);
  return literal(lexical(v));
}

const BCP47 =
  /^(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*(?:-[\da-wy-z](?:-[a-z\d]{2,8})+)*(?:-x(?:-[a-z\d]{1,8})+)?|x(?:-[a-z\d]{1,8})+)$/i;

/**
 * Whether a language tag is a well-formed BCP 47 (RFC 5646) tag, as rml:language and rml:languageMap require. The 4-8
 * letter primary subtags RFC 5646 reserves are refused: none is registered, and "english" must not pass.
 */
export function isLanguageTag(tag: string): boolean {
  return BCP47.test(tag);
}

/** A blank node label that is safe in N-Quads whatever the generated value was. */
export function blankLabel(value: string): string {
  return `v${value.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.codePointAt(0)!.toString(16)}`)}`;
}

export function typedLiteral(value: string, datatype: NamedNode | string | undefined, language?: string): Literal {
  if (language) return literal(value, language);
  if (datatype === undefined) return literal(value);
  return literal(value, typeof datatype === 'string' ? namedNode(datatype) : datatype);
}
