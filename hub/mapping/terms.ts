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
export function iriSafe(value: string): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || ch === '-' || ch === '.' || ch === '_' || ch === '~') {
      out += ch;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
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
