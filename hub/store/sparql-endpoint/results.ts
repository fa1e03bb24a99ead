// Result conversions for endpoints whose own serialisation deviates from the SPARQL 1.1 result formats.
import type { JsonBinding, JsonTerm } from '../quad-store.ts';

function tsvTerm(t: JsonTerm | undefined): string {
  if (!t) return '';
  if (t.type === 'uri') return `<${t.value}>`;
  if (t.type === 'bnode') return `_:${t.value}`;
  const v = JSON.stringify(t.value).replace(/\t/g, '\\t');
  if (t['xml:lang']) return `${v}@${t['xml:lang']}`;
  if (t.datatype && t.datatype !== 'http://www.w3.org/2001/XMLSchema#string') return `${v}^^<${t.datatype}>`;
  return v;
}

/**
 * SPARQL 1.1 Query Results CSV and TSV Formats, section 3: TSV with `?var` headers and terms in Turtle/N-Triples syntax.
 * Virtuoso 7.2 writes TSV like CSV (quoted names, IRIs without angle brackets), so the store asks for JSON and writes TSV here.
 */
export function jsonToTsv(json: string): string {
  const parsed = JSON.parse(json) as { head: { vars?: string[] }; results?: { bindings: JsonBinding[] }; boolean?: boolean };
  const vars = parsed.head.vars ?? [];
  const lines = [vars.map((v) => `?${v}`).join('\t')];
  for (const b of parsed.results?.bindings ?? []) lines.push(vars.map((v) => tsvTerm(b[v])).join('\t'));
  return `${lines.join('\n')}\n`;
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * SPARQL 1.1 Query Results CSV Format, section 2: plain values, quoted only where RFC 4180 needs it, CRLF line ends.
 * Virtuoso 7.2 quotes every field, header included.
 */
export function jsonToCsv(json: string): string {
  const parsed = JSON.parse(json) as { head: { vars?: string[] }; results?: { bindings: JsonBinding[] } };
  const vars = parsed.head.vars ?? [];
  const lines = [vars.map(csvField).join(',')];
  for (const b of parsed.results?.bindings ?? []) {
    lines.push(vars.map((v) => (b[v] ? csvField(b[v].type === 'bnode' ? `_:${b[v].value}` : b[v].value) : '')).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
