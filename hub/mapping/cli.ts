// `npm run map -- <mapping file> [--output out.nq] [--base IRI] [--message msg.json]`: runs a mapfile offline to N-Quads.
import { readFileSync, writeFileSync } from 'node:fs';
import { Writer } from 'n3';
import type { Quad } from '@rdfjs/types';
import { HubError } from '../errors.ts';
import { compileMapping } from './compile.ts';
import { loadFileSources } from './sources.ts';

export interface MapFileOptions {
  base?: string;
  /** A `{meta, payload}` envelope for mapfiles that read hub:CurrentMessage. */
  message?: unknown;
  /** Data errors (values that make no valid IRI): `fail` (default: MappingError `invalid-iri`) or `skip` the term. */
  dataErrors?: 'fail' | 'skip';
  /** Cap on each file source's bytes, raw and decompressed (default 64 MiB). */
  maxSourceBytes?: number;
}

const USAGE = 'usage: npm run map -- <mapping.ttl|mapping.yml> [--output out.nq] [--base IRI] [--message envelope.json] [--skip-data-errors] [--max-source-bytes N]\n';

/**
 * Compiles a mapfile (Turtle, or YARRRML when the name ends in .yml/.yaml) and runs it over its file sources, resolved
 * relative to the mapfile like the RML test cases and read through RML-IO (encodings, compression, CSVW dialects,
 * XML). Returns the quads, deduplicated (RDF datasets are sets). A data error rejects the whole run: no partial output.
 */
export async function mapFile(file: string, options: MapFileOptions = {}): Promise<Quad[]> {
  const text = readFileSync(file, 'utf8');
  const format = /\.ya?ml$/i.test(file) ? 'yarrrml' : 'turtle';
  const plan = compileMapping(text, format, { baseIri: options.base, dataErrors: options.dataErrors });
  const quads = plan.run(await loadFileSources(plan, file, options.message, { maxBytes: options.maxSourceBytes }));
  const seen = new Set<string>();
  const out: Quad[] = [];
  for (const q of quads) {
    const k = `${q.subject.termType}${q.subject.value}|${q.predicate.value}|${q.object.termType}${q.object.value}|${q.object.termType === 'Literal' ? `${q.object.language}^${q.object.datatype.value}` : ''}|${q.graph.value}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(q);
    }
  }
  return out;
}

export function toNQuads(quads: Quad[]): string {
  return new Writer({ format: 'application/n-quads' }).quadsToString(quads);
}

/** The CLI: exit 0 with N-Quads, 1 naming the typed error (class, code, message, term/value), 2 for bad arguments. */
export async function main(argv: string[], out: { stdout(s: string): void; stderr(s: string): void } = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }): Promise<number> {
  let file: string | undefined;
  let output: string | undefined;
  const options: MapFileOptions = {};
  try {
    for (let i = 0; i < argv.length; i += 1) {
      const a = argv[i]!;
      if (a === '--output' || a === '-o') output = argv[++i];
      else if (a === '--base') options.base = argv[++i];
      else if (a === '--message') options.message = JSON.parse(readFileSync(argv[++i]!, 'utf8'));
      else if (a === '--skip-data-errors') options.dataErrors = 'skip';
      else if (a === '--max-source-bytes') {
        options.maxSourceBytes = Number(argv[++i]);
        if (!Number.isInteger(options.maxSourceBytes) || options.maxSourceBytes <= 0) throw new Error('--max-source-bytes takes a positive integer');
      } else if (a === '--help' || a === '-h') {
        out.stdout(USAGE);
        return 0;
      } else if (!file) file = a;
      else throw new Error(`unexpected argument '${a}'`);
    }
  } catch (e) {
    out.stderr(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!file) {
    out.stderr(USAGE);
    return 2;
  }
  try {
    const nq = toNQuads(await mapFile(file, options));
    if (output) writeFileSync(output, nq);
    else out.stdout(nq);
    return 0;
  } catch (e) {
    if (e instanceof HubError) {
      out.stderr(`${e.name} [${e.code}]: ${e.message}${Object.keys(e.extensions).length ? ` ${JSON.stringify(e.extensions)}` : ''}\n`);
      return 1;
    }
    out.stderr(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
