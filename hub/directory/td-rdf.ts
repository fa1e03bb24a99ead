// Converts a Thing Description (JSON-LD 1.1) to N-Triples offline: local TD/discovery contexts, unique blank nodes per TD.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const require = createRequire(import.meta.url);

interface RdfTerm {
  termType: 'NamedNode' | 'BlankNode' | 'Literal' | 'DefaultGraph';
  value: string;
  datatype?: { value: string };
  language?: string;
}
interface RdfQuad {
  subject: RdfTerm;
  predicate: RdfTerm;
  object: RdfTerm;
  graph: RdfTerm;
}
interface RemoteDocument {
  contextUrl: string | null;
  documentUrl: string;
  document: unknown;
}
interface JsonLd {
  toRDF(doc: unknown, options: Record<string, unknown>): Promise<RdfQuad[]>;
}
const jsonld = require('jsonld') as JsonLd;

export const TD_CONTEXT_11 = 'https://www.w3.org/2022/wot/td/v1.1';
export const TD_CONTEXT_10 = 'https://www.w3.org/2019/wot/td/v1';
export const DISCOVERY_CONTEXT = 'https://www.w3.org/2022/wot/discovery';

const ONTOLOGIES = fileURLToPath(new URL('../../ontologies/', import.meta.url));

function loadJson(file: string): unknown {
  return JSON.parse(readFileSync(ONTOLOGIES + file, 'utf8'));
}

/** The contexts the hub holds locally (ontologies/SOURCES.md); TD 1.0 is answered with the 1.1 context (a superset). */
export const LOCAL_CONTEXTS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  [TD_CONTEXT_11, loadJson('wot-td-context-1.1.jsonld')],
  [TD_CONTEXT_10, loadJson('wot-td-context-1.1.jsonld')],
  [DISCOVERY_CONTEXT, loadJson('wot-discovery-context.jsonld')],
]);

function normalise(url: string): string {
  return url.replace(/^http:/, 'https:').replace(/[#/]$/, '');
}

/**
 * A JSON-LD document loader that never touches the network (JSON-LD 1.1 API §9.4 LoadDocumentCallback).
 * Unknown remote contexts resolve to an empty context, so a TD citing a vocabulary the hub cannot fetch still
 * registers; its terms from that context are simply not mapped to IRIs.
 */
export async function offlineDocumentLoader(url: string): Promise<RemoteDocument> {
  const doc = LOCAL_CONTEXTS.get(normalise(url));
  return { contextUrl: null, documentUrl: url, document: doc ?? { '@context': {} } };
}

function escapeString(s: string): string {
  return s.replace(/[\\"\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : c === '\n' ? '\\n' : '\\r'));
}

function iriSafe(iri: string): boolean {
  // N-Triples IRIREF excludes these; jsonld can emit relative or odd IRIs from user input.
  return !/[\x00-\x20<>"{}|^`\\]/.test(iri);
}

/**
 * TD as N-Triples. Blank nodes get a prefix derived from the TD id: the store keeps blank node labels as given,
 * so `_:b0` of two TDs would otherwise be the same node once both are loaded.
 */
export async function tdToNTriples(td: Record<string, unknown>, thingId: string): Promise<string> {
  const quads = await jsonld.toRDF(td, { documentLoader: offlineDocumentLoader, safe: false });
  const prefix = 't' + createHash('sha1').update(thingId).digest('hex').slice(0, 12);
  const term = (t: RdfTerm): string | undefined => {
    switch (t.termType) {
      case 'NamedNode':
        return iriSafe(t.value) ? `<${t.value}>` : undefined;
      case 'BlankNode':
        return `_:${prefix}${t.value.replace(/^_:/, '').replace(/[^A-Za-z0-9]/g, '')}`;
      case 'Literal': {
        const lex = `"${escapeString(t.value)}"`;
        if (t.language) return `${lex}@${t.language}`;
        const dt = t.datatype?.value;
        if (!dt || dt === 'http://www.w3.org/2001/XMLSchema#string') return lex;
        return iriSafe(dt) ? `${lex}^^<${dt}>` : lex;
      }
      default:
        return undefined;
    }
  };
  const lines: string[] = [];
  for (const q of quads) {
    const s = term(q.subject);
    const p = term(q.predicate);
    const o = term(q.object);
    if (s && p && o && q.predicate.termType === 'NamedNode') lines.push(`${s} ${p} ${o} .`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}
