// Fuzz targets: JSONPath text in directory search (/search/jsonpath) and in mapfiles (compileJsonPath + all/one on a message).
import { readFileSync } from 'node:fs';
import { queryJsonPath } from '../../../hub/directory/jsonpath.ts';
import { compileJsonPath } from '../../../hub/mapping/jsonpath.ts';
import { enc, filesUnder, ROOT, SHARED } from '../corpus.ts';
import { jsonPathSoup } from '../generators.ts';
import { text, type FuzzTarget } from '../target.ts';
import { existsSync } from 'node:fs';

const CTS = `${SHARED}conformance/jsonpath/cts.json`;

/** Selectors of the RFC 9535 compliance suite, and the iterators/references of the shipped mapfiles. */
function selectorSeeds(): Uint8Array[] {
  const out = new Set<string>();
  if (existsSync(CTS)) for (const t of (JSON.parse(readFileSync(CTS, 'utf8')) as { tests: Array<{ selector: string }> }).tests) out.add(t.selector);
  for (const f of filesUnder(`${ROOT}mappings`, (n) => n.endsWith('.ttl'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/rml:(?:iterator|reference)\s+"((?:[^"\\]|\\.)*)"/g)) out.add(m[1]!.replace(/\\"/g, '"'));
  }
  out.add("$[?@.title=='Field sensor 1'].id");
  return [...out].map(enc);
}

const TOKENS = ['[?', '[?(', ')]', ']', '@', '$', '..', '.*', '[*]', "['", "']", '==', '!=', '&&', '||', '!', 'length(', 'count(', 'match(',
  'search(', 'value(', '"(a+)+b"', "'^(.+)+X$'", '.repeat(99999999)', '.split("")', '.constructor.constructor', '__proto__', '[-1]',
  '[0:9999999999:1]', '[::-9007199254740993]', '[1e400]', '\\u0000', '\\ud800', '"\\', "'\\"];

let tds: unknown[] = [];
let messages: unknown[] = [];

export const jsonpathSearchTarget: FuzzTarget = {
  name: 'jsonpath-search',
  description: 'JSONPath query -> queryJsonPath over a list of TDs (directory search)',
  tokens: TOKENS,
  seeds: selectorSeeds,
  generate: (rng) => enc(jsonPathSoup(rng)),
  setup() {
    tds = filesUnder(`${ROOT}thing-models`, (n) => n.endsWith('.jsonld'), 8).map((p) => JSON.parse(readFileSync(p, 'utf8')) as unknown);
  },
  run(input) {
    queryJsonPath(text(input), tds);
  },
};

export const jsonpathMappingTarget: FuzzTarget = {
  name: 'jsonpath-mapping',
  description: 'JSONPath (rml:iterator / rml:reference) -> compileJsonPath -> all() and one() on fixture messages',
  tokens: TOKENS,
  seeds: selectorSeeds,
  generate: (rng) => enc(jsonPathSoup(rng)),
  setup() {
    messages = filesUnder(`${ROOT}test/fixtures/mapping`, (n) => n.endsWith('.message.json'), 20).map((p) => JSON.parse(readFileSync(p, 'utf8')) as unknown);
  },
  run(input) {
    const path = compileJsonPath(text(input));
    for (const m of messages) {
      path.all(m);
      if (!path.multi) path.one(m);
    }
  },
};
