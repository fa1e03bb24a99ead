// Logical sources for offline runs (CLI, conformance): files next to the mapfile read through RML-IO (bytes -> records).
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MappingError } from '../errors.ts';
import { parseCsvDialect } from './csv.ts';
import type { MappingPlan, SourcePlan } from './plan.ts';
import { DEFAULT_MAX_SOURCE_BYTES, sourceText } from './source-bytes.ts';
import { parseXml } from './xml.ts';

export { parseCsv, parseCsvDialect } from './csv.ts';

export interface SourceReadOptions {
  /** Cap on a source's bytes, raw and decompressed (default 64 MiB): MappingError `source-too-large` past it. */
  maxBytes?: number;
}

/**
 * Parses the text of a file source by its reference formulation: JSON, CSV in the source's CSVW dialect, or XML
 * (DTDs refused). Pure: the fuzz harness and the preview path call it without touching the disk.
 */
export function parseSourceText(text: string, source: Pick<SourcePlan, 'formulation' | 'io' | 'path'>): unknown {
  if (source.formulation === 'csv') return parseCsvDialect(text, source.io?.dialect, { maxRows: 10_000_000 });
  if (source.formulation === 'xpath') return parseXml(text);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MappingError(`Logical source '${source.path}' is not JSON: ${(e as Error).message}`, { term: source.path }, { cause: e }, 'source-invalid');
  }
}

/** Reads, decompresses, decodes and parses one file source under the size cap. */
export async function readFileSource(file: string, source: SourcePlan, options: SourceReadOptions = {}): Promise<unknown> {
  const max = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  let bytes: Uint8Array;
  try {
    if ((await stat(file)).size > max) throw new MappingError(`Logical source '${source.path}' is larger than ${max} bytes`, { term: source.path }, {}, 'source-too-large');
    bytes = await readFile(file);
  } catch (e) {
    if (e instanceof MappingError) throw e;
    throw new MappingError(`Cannot read logical source '${source.path}': ${(e as Error).message}`, { term: source.path }, { cause: e }, 'mapping-failed');
  }
  const text = await sourceText(bytes, { compression: source.io?.compression, encoding: source.io?.encoding, maxBytes: max, name: source.path });
  return parseSourceText(text, source);
}

/**
 * Reads every file source of a plan (relative to the mapfile's directory, or the working directory for
 * rml:CurrentWorkingDirectory) before the run, so that MappingPlan.run stays synchronous; returns its loader.
 */
export async function loadFileSources(plan: MappingPlan, mappingFile: string, message?: unknown, options: SourceReadOptions = {}): Promise<(source: SourcePlan) => unknown> {
  const docs = new Map<SourcePlan, unknown>();
  const byFile = new Map<string, unknown>();
  for (const source of plan.sources) {
    if (source.kind === 'message') continue;
    const file = resolve(source.root === 'cwd' ? process.cwd() : dirname(resolve(mappingFile)), source.path!);
    const key = `${file}|${source.formulation}|${JSON.stringify(source.io ?? {})}`;
    if (!byFile.has(key)) byFile.set(key, await readFileSource(file, source, options));
    docs.set(source, byFile.get(key));
  }
  return (source) => {
    if (source.kind === 'message') {
      if (message === undefined) throw new MappingError('The mapfile reads hub:CurrentMessage; pass a message (--message file.json)', { term: 'hub:CurrentMessage' }, {}, 'mapping-failed');
      return message;
    }
    return docs.get(source);
  };
}
