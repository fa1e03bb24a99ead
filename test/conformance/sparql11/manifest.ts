// Reads the W3C SPARQL 1.1 test manifests (mf:, qt:, ut: vocabularies) into plain test records.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Parser, Store, type Quad, type Term } from 'n3';

export const SUITE_DIR = resolve(import.meta.dirname, '../../../../shared/conformance/sparql11');

const MF = 'http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#';
const QT = 'http://www.w3.org/2001/sw/DataAccess/tests/test-query#';
const UT = 'http://www.w3.org/2009/sparql/tests/test-update#';
const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#';
const DAWGT = 'http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#';

/** A graph to load: `file` (a file: URL) into the default graph (name undefined) or a named graph. */
export interface GraphFile {
  file: string;
  name?: string;
}

export interface ManifestTest {
  /** The test IRI. */
  iri: string;
  /** Short id: `<folder>/<local name>`, the key of KNOWN_FAILURES. */
  id: string;
  type: string;
  name: string;
  approval?: string;
  manifest: string;
  /** Query or update file (evaluation tests), or the syntax test's file. */
  request?: string;
  data: GraphFile[];
  result?: string;
  resultData: GraphFile[];
  /** The mf:action / mf:result nodes, for protocol tests that read the rest of the manifest themselves. */
  node: Term;
  store: Store;
}

export function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}

export function readUrl(url: string): string {
  return readFileSync(fileURLToPath(url), 'utf8');
}

export function loadManifestStore(url: string): Store {
  const store = new Store();
  store.addQuads(new Parser({ baseIRI: url }).parse(readUrl(url)) as Quad[]);
  return store;
}

export function listItems(store: Store, head: Term | undefined): Term[] {
  const items: Term[] = [];
  let node = head;
  while (node && node.value !== `${RDF}nil`) {
    const first = store.getObjects(node, `${RDF}first`, null)[0];
    if (first) items.push(first);
    node = store.getObjects(node, `${RDF}rest`, null)[0];
  }
  return items;
}

export function one(store: Store, s: Term, p: string): Term | undefined {
  return store.getObjects(s, p, null)[0];
}

function graphFiles(store: Store, node: Term | undefined, ns: string): GraphFile[] {
  if (!node) return [];
  const out: GraphFile[] = [];
  for (const d of store.getObjects(node, `${ns}data`, null)) out.push({ file: d.value });
  for (const g of store.getObjects(node, `${ns}graphData`, null)) {
    if (g.termType === 'NamedNode') out.push({ file: g.value, name: g.value });
    else {
      const file = one(store, g, `${UT}graph`) ?? one(store, g, `${QT}graph`);
      const label = one(store, g, `${RDFS}label`);
      if (file) out.push({ file: file.value, name: label?.value ?? file.value });
    }
  }
  return out;
}

/** Every test of a manifest and the manifests it includes (mf:include), in manifest order. */
export function loadTests(manifestPath: string): ManifestTest[] {
  const url = manifestPath.startsWith('file:') ? manifestPath : fileUrl(manifestPath);
  const store = loadManifestStore(url);
  const tests: ManifestTest[] = [];
  const root = store.getSubjects(`${RDF}type`, `${MF}Manifest`, null).find((s) => s.value === url) ?? { termType: 'NamedNode', value: url };
  for (const inc of listItems(store, one(store, root as Term, `${MF}include`))) tests.push(...loadTests(inc.value));
  const folder = url.split('/').slice(-2, -1)[0]!;
  for (const entry of listItems(store, one(store, root as Term, `${MF}entries`))) {
    const type = one(store, entry, `${RDF}type`)?.value.replace(MF, '') ?? 'unknown';
    const action = one(store, entry, `${MF}action`);
    const result = one(store, entry, `${MF}result`);
    const isNode = (t: Term | undefined) => t && t.termType === 'NamedNode';
    let request: string | undefined;
    if (isNode(action)) request = action!.value;
    else if (action) request = (one(store, action, `${QT}query`) ?? one(store, action, `${UT}request`))?.value;
    tests.push({
      iri: entry.value,
      id: `${folder}/${entry.value.split('#').pop()}`,
      type,
      name: one(store, entry, `${MF}name`)?.value ?? entry.value,
      approval: one(store, entry, `${DAWGT}approval`)?.value.replace(DAWGT, ''),
      manifest: url,
      request,
      // Protocol tests put ut:graphData on the test itself rather than in its action.
      data: [...(isNode(action) ? [] : [...graphFiles(store, action, QT), ...graphFiles(store, action, UT)]), ...graphFiles(store, entry, UT)],
      result: isNode(result) ? result!.value : undefined,
      resultData: result && !isNode(result) ? graphFiles(store, result, UT) : [],
      node: entry,
      store,
    });
  }
  return tests;
}
