// CSV tables as CSVW dialects describe them (delimiter, quotes, escapes, headers, comments, skipped rows, trim, nulls).
import { MappingError } from '../errors.ts';

/**
 * A CSV dialect (CSV on the Web, https://www.w3.org/TR/tabular-metadata/#dialect-descriptions): the csvw:Dialect
 * terms RML-IO sources use. Defaults are CSVW's (RFC 4180 with a header row).
 */
export interface CsvDialect {
  delimiter: string;
  /** The quote character, or '' for none. */
  quoteChar: string;
  /** true: a quote inside a quoted cell is doubled (""); false: it is escaped with a backslash (\"). */
  doubleQuote: boolean;
  header: boolean;
  headerRowCount: number;
  skipRows: number;
  skipColumns: number;
  skipBlankRows: boolean;
  skipInitialSpace: boolean;
  /** Rows starting with it (after skipRows) are comments; '' for none. */
  commentPrefix: string;
  trim: boolean | 'start' | 'end';
  /** Row terminators; the default accepts CRLF, LF and CR. */
  lineTerminators: string[];
  /** Cell values that stand for no value (CSVW csvw:null, RML-IO rml:null). */
  nulls: string[];
}

export const DEFAULT_DIALECT: CsvDialect = {
  delimiter: ',',
  quoteChar: '"',
  doubleQuote: true,
  header: true,
  headerRowCount: 1,
  skipRows: 0,
  skipColumns: 0,
  skipBlankRows: false,
  skipInitialSpace: false,
  commentPrefix: '',
  trim: false,
  lineTerminators: ['\r\n', '\n', '\r'],
  nulls: [],
};

export interface CsvLimits {
  /** Most rows (records) accepted; past it the parse stops with a typed error. */
  maxRows?: number;
  /** Most cells in one row. */
  maxColumns?: number;
}

function bad(message: string, line: number): never {
  throw new MappingError(`CSV: ${message} (line ${line})`, { line }, {}, 'source-invalid');
}

/** Splits text into raw rows of cells following the dialect's quoting; lines are counted from 1 for errors. */
function splitRows(text: string, d: CsvDialect, limits: CsvLimits): string[][] {
  const rows: string[][] = [];
  const terminators = [...d.lineTerminators].sort((a, b) => b.length - a.length);
  const maxRows = limits.maxRows ?? Number.POSITIVE_INFINITY;
  const maxColumns = limits.maxColumns ?? 10_000;
  const q = d.quoteChar;
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = (): void => {
    row.push(cell);
    if (row.length > maxColumns) bad(`more than ${maxColumns} columns`, line);
    rows.push(row);
    if (rows.length > maxRows + d.skipRows + d.headerRowCount) bad(`more than ${maxRows} rows`, line);
    row = [];
    cell = '';
    wasQuoted = false;
  };
  const terminatorAt = (k: number): string | undefined => {
    for (const t of terminators) if (text.startsWith(t, k)) return t;
    return undefined;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (!d.doubleQuote && c === '\\' && i + 1 < text.length) {
        cell += text[i + 1];
        i += 2;
        continue;
      }
      if (c === q) {
        if (d.doubleQuote && text[i + 1] === q) {
          cell += q;
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      if (c === '\n') line += 1;
      cell += c;
      i += 1;
      continue;
    }
    // As in CSVW's cell parsing, a quote opens a quoted run anywhere in a cell (trim then removes the spaces around it).
    if (q !== '' && c === q) {
      quoted = true;
      wasQuoted = true;
      i += 1;
      continue;
    }
    if (text.startsWith(d.delimiter, i)) {
      row.push(cell);
      cell = '';
      wasQuoted = false;
      i += d.delimiter.length;
      if (d.skipInitialSpace) while (text[i] === ' ') i += 1;
      continue;
    }
    const t = terminatorAt(i);
    if (t !== undefined) {
      endRow();
      line += 1;
      i += t.length;
      continue;
    }
    cell += c;
    i += 1;
  }
  if (quoted) bad('a quoted cell is not closed', line);
  if (cell !== '' || row.length > 0 || wasQuoted) endRow();
  return rows;
}

function trimCell(v: string, trim: CsvDialect['trim']): string {
  if (trim === true) return v.trim();
  if (trim === 'start') return v.trimStart();
  if (trim === 'end') return v.trimEnd();
  return v;
}

/**
 * Parses a CSV text with a CSVW dialect into records (column name -> cell; a null cell is `null`). Pure: no I/O, bounded
 * by `limits`; a malformed table (unclosed quote, too many rows or columns) is a MappingError `source-invalid`.
 * headerRowCount > 1 joins the header rows' cells with a space, as CSVW's "titles" do; without a header the columns
 * are named "1", "2", ... (CSVW column numbers).
 */
export function parseCsvDialect(text: string, dialect: Partial<CsvDialect> = {}, limits: CsvLimits = {}): Array<Record<string, string | null>> {
  const d: CsvDialect = { ...DEFAULT_DIALECT, ...dialect };
  if (d.delimiter === '') throw new MappingError('CSV: the delimiter is empty', {}, {}, 'source-invalid');
  let rows = splitRows(text, d, limits).slice(d.skipRows);
  if (d.commentPrefix) rows = rows.filter((r) => !(r[0] ?? '').startsWith(d.commentPrefix));
  const blank = (r: string[]): boolean => r.every((c) => c === '');
  const headerCount = d.header ? d.headerRowCount : 0;
  const headerRows = rows.slice(0, headerCount).map((r) => r.slice(d.skipColumns));
  let body = rows.slice(headerCount).map((r) => r.slice(d.skipColumns));
  if (d.skipBlankRows) body = body.filter((r) => !blank(r));
  // RFC 4180 readers have always dropped empty lines; keep doing so for the default dialect's bare "\n\n".
  else body = body.filter((r) => !(r.length === 1 && r[0] === ''));
  const width = Math.max(0, ...headerRows.map((r) => r.length), headerCount ? 0 : Math.max(0, ...body.map((r) => r.length)));
  const names: string[] = [];
  for (let k = 0; k < width; k += 1) {
    names.push(headerCount ? headerRows.map((r) => trimCell(r[k] ?? '', d.trim)).filter(Boolean).join(' ') : String(k + 1));
  }
  const nulls = new Set(d.nulls);
  return body.map((r) => {
    const rec: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
    for (let k = 0; k < names.length; k += 1) {
      const v = trimCell(r[k] ?? '', d.trim);
      rec[names[k]!] = nulls.has(v) ? null : v;
    }
    return rec;
  });
}

/** RFC 4180 CSV with a header row (the default dialect): rows of header -> cell. */
export function parseCsv(text: string): Array<Record<string, string>> {
  return parseCsvDialect(text) as Array<Record<string, string>>;
}
