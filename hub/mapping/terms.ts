// RDF term construction rules of RML-Core: IRI-safe template values, base IRIs, natural datatypes, language tags.
import { DataFactory } from 'n3';
import type { Literal, NamedNode, Term } from '@rdfjs/types';
import { MappingError } from '../errors.ts';
import { iriProblem, isAbsolute } from './iri.ts';
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

/** IRI-safe template values (RML-Core "IRI-safe"): see iri.ts. */
export { iriSafe, uriSafe } from './iri.ts';

/**
 * An absolute IRI from a generated value (RML-Core "Term generation rules" for IRIs): a relative value is appended to
 * the base IRI; a value that still is not an RFC 3987 IRI is a data error, MappingError `invalid-iri` naming the term
 * map and the value (never a silently dropped term). rml:UnsafeIRI values are only required to be absolute.
 */
export function resolveIri(value: string, base: string | undefined, where: string, checked: boolean): string {
  const iri = isAbsolute(value) ? value : base !== undefined ? base + value : undefined;
  const problem = iri === undefined ? 'it is relative and there is no base IRI' : checked ? iriProblem(iri) : undefined;
  if (problem !== undefined) {
    const shown = value.length > 200 ? `${value.slice(0, 200)}...` : value;
    throw new MappingError(`The ${where} generated '${shown}', which is not a valid IRI: ${problem}`, { term: where }, { extensions: { value: shown } }, 'invalid-iri');
  }
  return iri!;
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
