// Fuzz targets: mapfile uploads (Turtle RML and YARRRML) compiled as the registry does, then run on real messages.
import { readFileSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compileParsed, compileParsedSliced } from '../../../hub/mapping/compile.ts';
import { parseMappingBounded } from '../../../hub/mapping/parse-bounded.ts';
import { parseMapping, type MappingFormat } from '../../../hub/mapping/parse.ts';
import { writeNQuads } from '../../../hub/mapping/nquads.ts';
import { OxigraphEngine } from '../../../hub/store/oxigraph-engine.ts';
import { enc, filesUnder, readAll, ROOT, SHARED } from '../corpus.ts';
import { turtleish } from '../generators.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

let messages: unknown[] = [];

/** One fixture message per shipped mapfile family (a plan that ignores a message's shape maps nothing from it, cheaply). */
function loadMessages(): void {
  const files = filesUnder(`${ROOT}test/fixtures/mapping`, (n) => n.endsWith('.message.json'), 40);
  const oneEach = new Map(files.map((p) => [p.split('/').pop()!.split('.')[0]!, p]));
  messages = [...oneEach.values()].map((p) => JSON.parse(readFileSync(p, 'utf8')) as unknown);
}

/** Seeds up to this size: the 165 KB generated Cayenne mapfile would make every mutant of it cost tens of ms. */
const MAX_SEED = 32 * 1024;

/** The synchronous compile (parseMapping + compileParsed, as MappingRegistry.compile), then a preview on each message. */
function compileAndRun(input: Uint8Array, format: MappingFormat): () => void {
  const parsed = parseMapping(text(input), format);
  const plan = compileParsed(parsed, COMPILE);
  const outputs = messages.map((m) => writeNQuads(plan.mapMessage(m)));
  return () => loadAll(outputs);
}

const RML_TOKENS = ['rml:', 'rr:', 'rml:iterator', 'rml:reference', 'rml:template', 'rml:termType rml:IRI', 'rml:termType rml:Literal',
  'rml:termType rml:BlankNode', '"$.payload.decoded.*"', '"$..*"', '"$[*]"', '"$.payload.gateways[*]"', '"{$.meta.thingId}"', '"\\\\{"',
  '"{"', '"}"', '"{}"', 'rml:datatype', 'rml:language "x-"', 'rml:functionExecution', '<#', '>', '_:', '(', ')', '[', ']', ';', '.', ','];

const COMPILE = { baseIri: 'http://127.0.0.1:8080/', perMessageOnly: true, strictVocabulary: true };

/**
 * What MappingRegistry does with a Turtle upload: parseMappingBounded (caps, n3 in time slices) and compileParsedSliced,
 * then a preview of each fixture message, each its own event-loop task as in /ingest. Timed by its longest slice.
 */
async function uploadAndRun(input: Uint8Array): Promise<() => void> {
  const parsed = await parseMappingBounded(text(input), 'turtle');
  const plan = await compileParsedSliced(parsed, COMPILE);
  const outputs: string[] = [];
  for (const m of messages) {
    outputs.push(writeNQuads(plan.mapMessage(m)));
    await yieldToLoop();
  }
  return () => loadAll(outputs);
}

/** The store loads the quads in its worker: checked after the timing stops. */
function loadAll(outputs: string[]): void {
  const engine = new OxigraphEngine();
  for (const nq of outputs) {
    try {
      engine.load(nq);
    } catch (e) {
      throw new OracleError(`the mapping produced N-Quads the store refuses (an invalid term should be a MappingError): ${(e as Error).message.slice(0, 200)}`);
    }
  }
}

export const mapfileTurtleTarget: FuzzTarget = {
  name: 'mapfile-turtle',
  description: 'Turtle mapfile -> parseMappingBounded + compileParsedSliced (as MappingRegistry.put) -> mapMessage on fixture messages -> N-Quads load; longest slice timed',
  tokens: RML_TOKENS,
  seeds: () => readAll([...filesUnder(`${ROOT}mappings`, (n) => n.endsWith('.ttl')), ...filesUnder(`${SHARED}conformance/rml`, (n) => n.endsWith('.ttl'), 300)], MAX_SEED),
  generate: (rng) => enc(turtleish(rng)),
  generateRatio: 0.2,
  setup: loadMessages,
  run: uploadAndRun,
  timing: 'slice',
};

const YAML_TOKENS = ['prefixes:', 'mappings:', 'sources:', 's:', 'po:', 'p:', 'o:', 'value:', 'type:', 'iri', 'literal', 'blank',
  'datatype:', 'language:', 'condition:', 'function:', 'parameters:', 'mapping:', 'join:', 'equal(', '$(', '$(payload.x)', '~iri',
  '~lang', '- ', '  ', '\n', ': ', '{', '}', '[', ']', '&a', '*a', '<<: *a', '!!js/function', '!!binary', '? ', '|', '>', '#', '"', "'",
  '%YAML 1.2', '---', '...', '[hub:CurrentMessage~jsonpath, "$.payload"]', 'hub:CurrentMessage'];

const MAX_SYNC_YARRRML = 16 * 1024;

export const mapfileYarrrmlTarget: FuzzTarget = {
  name: 'mapfile-yarrrml',
  description: 'YARRRML mapfile -> @rmlio/yarrrml-parser + compileParsed -> mapMessage on fixture messages -> N-Quads load',
  tokens: YAML_TOKENS,
  seeds: () => readAll([...filesUnder(`${ROOT}test/fixtures/mapping/yarrrml`, (n) => /\.ya?ml$/.test(n)), ...filesUnder(`${SHARED}conformance/rml`, (n) => /\.ya?ml$/.test(n), 200)], MAX_SEED),
  generate: (rng) => {
    const lines = ['prefixes:', '  ex: http://example.org/', 'mappings:', '  m:', '    sources:', '      - [hub:CurrentMessage~jsonpath, "$.payload"]', '    s: ex:$(devEui)', '    po:'];
    for (let k = rng.size(10); k > 0; k--) lines.push(`      - [${rng.pick(['ex:p', 'a', 'ex:$(x)', '"q"'])}, ${rng.pick(['$(fCnt)', '"lit"', 'ex:o~iri', '$(decoded.*)', '{', '[', '$('])}]`);
    if (rng.chance(0.1)) lines.push('x: ' + '['.repeat(rng.pick([100, 1000, 10000])));
    if (rng.chance(0.1)) lines.push('a: &a [*a, *a, *a, *a, *a]', 'b: &b [*a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c]');
    return enc(lines.join('\n'));
  },
  generateRatio: 0.3,
  setup: loadMessages,
  // @rmlio/yarrrml-parser is superlinear (a 66 KB input ran > 5 s in-process, 16 KiB ones 100-300 ms); the hub never
  // runs it on the event loop but in a worker bounded in time, heap and stack, and compiles time-sliced
  // (parseMappingBounded: 422 mapfile-too-complex, test/mapping/mapfile-limits.test.ts). So the whole conversion and
  // compile is an untimed oracle here (crashes and untyped errors still count; the watchdog still catches a freeze),
  // on the first 16 KiB of each input.
  run: (input) => () => compileAndRun(input.subarray(0, MAX_SYNC_YARRRML), 'yarrrml')(),
};
