// `npm run map -- <mapping file> [--output out.nq] [--base IRI] [--message msg.json]`: runs a mapfile offline to N-Quads.
import { readFileSync, writeFileSync } from 'node:fs';
import { Writer } from 'n3';
import type { Quad } from '@rdfjs/types';
import { HubError } from '../errors.ts';
import { compileMapping } from './compile.ts';
import { fileSourceLoader } from './sources.ts';

export interface MapFileOptions {
  base?: string;
  /** A `{meta, payload}` envelope for mapfiles that read hub:CurrentMessage. */
  message?: unknown;
}

/**
 * Compiles a mapfile (Turtle, or YARRRML when the name ends in .yml/.yaml) and runs it over its file sources, resolved
 * relative to the mapfile like the RML test cases. Returns the quads, deduplicated (RDF datasets are sets).
 */
export function mapFile(file: string, options: MapFileOptions = {}): Quad[] {
  const text = readFileSync(file, 'utf8');
  const format = /\.ya?ml$/i.test(file) ? 'yarrrml' : 'turtle';
  const plan = compileMapping(text, format, { baseIri: options.base });
  const quads = plan.run(fileSourceLoader(file, options.message));
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

function main(argv: string[]): number {
  let file: string | undefined;
  let output: string | undefined;
  const options: MapFileOptions = {};
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    if (a === '--output' || a === '-o') output = argv[++i];
    else if (a === '--base') options.base = argv[++i];
    else if (a === '--message') options.message = JSON.parse(readFileSync(argv[++i]!, 'utf8'));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run map -- <mapping.ttl|mapping.yml> [--output out.nq] [--base IRI] [--message envelope.json]\n');
      return 0;
    } else if (!file) file = a;
    else {
      process.stderr.write(`unexpected argument '${a}'\n`);
      return 2;
    }
  }
  if (!file) {
    process.stderr.write('usage: npm run map -- <mapping file> [--output out.nq] [--base IRI] [--message envelope.json]\n');
    return 2;
  }
  try {
    const nq = toNQuads(mapFile(file, options));
    if (output) writeFileSync(output, nq);
    else process.stdout.write(nq);
    return 0;
  } catch (e) {
    if (e instanceof HubError) {
      process.stderr.write(`${e.name} [${e.code}]: ${e.message}${Object.keys(e.extensions).length ? ` ${JSON.stringify(e.extensions)}` : ''}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) process.exitCode = main(process.argv.slice(2));
