// File logical sources for offline runs (CLI, conformance): JSON documents and CSV tables, relative to the mapfile.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MappingError } from '../errors.ts';
import type { SourcePlan } from './plan.ts';

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows of header -> cell. */
export function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 1;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  const nonEmpty = rows.filter((r) => !(r.length === 1 && r[0] === ''));
  const header = nonEmpty.shift() ?? [];
  return nonEmpty.map((r) => Object.fromEntries(header.map((h, k) => [h, r[k] ?? ''])));
}

/** A loader for MappingPlan.run that reads file sources relative to the mapfile's directory (cached per run). */
export function fileSourceLoader(mappingFile: string, message?: unknown): (source: SourcePlan) => unknown {
  const cache = new Map<string, unknown>();
  return (source) => {
    if (source.kind === 'message') {
      if (message === undefined) throw new MappingError('The mapfile reads hub:CurrentMessage; pass a message (--message file.json)', { term: 'hub:CurrentMessage' }, {}, 'mapping-failed');
      return message;
    }
    const file = resolve(source.root === 'cwd' ? process.cwd() : dirname(resolve(mappingFile)), source.path!);
    const key = `${file}|${source.formulation}`;
    if (cache.has(key)) return cache.get(key);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new MappingError(`Cannot read logical source '${source.path}': ${(e as Error).message}`, { term: source.path }, { cause: e }, 'mapping-failed');
    }
    let doc: unknown;
    if (source.formulation === 'csv') doc = parseCsv(text);
    else {
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw new MappingError(`Logical source '${source.path}' is not JSON: ${(e as Error).message}`, { term: source.path }, { cause: e }, 'mapping-failed');
      }
    }
    cache.set(key, doc);
    return doc;
  };
}
