// Fuzz target: TD registration input as the directory takes it: JSON text -> TD 1.1 schema validation -> JSON-LD to N-Triples.
import { ValidationError, BadRequestError } from '../../../hub/errors.ts';
import { TdValidator } from '../../../hub/directory/validator.ts';
import { tdToNTriples } from '../../../hub/directory/td-rdf.ts';
import { OxigraphEngine } from '../../../hub/store/oxigraph-engine.ts';
import { enc, filesUnder, readAll, ROOT, SHARED } from '../corpus.ts';
import { jsonText, jsonValue } from '../generators.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

let validator: TdValidator;

/** JSON body as fastify's JSON parser turns it into a 400 (FST_ERR_CTP_INVALID_JSON): a typed rejection. */
export function parseJsonBody(input: Uint8Array): unknown {
  try {
    return JSON.parse(text(input));
  } catch (e) {
    throw new BadRequestError('Body is not valid JSON', { cause: e });
  }
}

function tdSeeds(): Uint8Array[] {
  const json = (n: string) => n.endsWith('.json') || n.endsWith('.jsonld');
  return readAll([
    ...filesUnder(`${SHARED}examples/flint`, json),
    ...filesUnder(`${ROOT}thing-models`, json),
    ...filesUnder(`${SHARED}conformance/wot-discovery`, json, 200),
  ]).concat([
    enc(JSON.stringify({ '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: 'urn:ex:t', title: 'T', securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: 'nosec_sc', properties: { t: { type: 'number', forms: [{ href: 'http://h/t' }] } } })),
  ]);
}

export const tdTarget: FuzzTarget = {
  name: 'td',
  description: 'TD JSON -> TdValidator.validate (TD 1.1 schema + Discovery) -> tdToNTriples (JSON-LD) -> N-Triples loads in Oxigraph',
  tokens: ['"@context"', '"https://www.w3.org/2022/wot/td/v1.1"', '"@type"', '"@id"', '"@vocab"', '"@base"', '"@language"', '"@list"',
    '"@graph"', '"@reverse"', '"@nest"', '"@protected"', '"@json"', '"@none"', '"id"', '"title"', '"forms"', '"href"', '"security"',
    '"securityDefinitions"', '"properties"', '"registration"', '"ttl"', '"expires"', '{"@context":{"@vocab":"x"}}', '"_:b"', '"urn:"',
    '"http://a b"', '"@"', '"\\u0000"', '{"@context":[null]}', '"@context":{"@base":"\\u0000"}'],
  seeds: tdSeeds,
  generate: (rng) => enc(rng.chance(0.6) ? jsonText(rng) : JSON.stringify({ '@context': rng.pick(['https://www.w3.org/2022/wot/td/v1.1', { '@vocab': 'x:' }, ['https://www.w3.org/2019/wot/td/v1', { a: 'b' }]]), id: 'urn:x', title: 't', security: 'n', securityDefinitions: { n: { scheme: 'nosec' } }, ...(jsonValue(rng, 5) as object) })),
  setup() {
    validator = new TdValidator();
  },
  async run(input) {
    const td = parseJsonBody(input);
    validator.validate(td);
    let nt: string;
    try {
      nt = await tdToNTriples(td as Record<string, unknown>, String((td as { id?: unknown }).id ?? 'urn:anon'));
    } catch (e) {
      // td-graphs.ts reports JSON-LD errors as 400 on /@context.
      throw new ValidationError('The TD is not valid JSON-LD 1.1', [{ field: '/@context', description: (e as Error).message }], { cause: e });
    }
    // The directory loads this text into the store (in its worker, so untimed): N-Triples the engine refuses would be a 500 there.
    return () => {
      try {
        new OxigraphEngine().load(nt);
      } catch (e) {
        throw new OracleError(`tdToNTriples produced N-Triples the store refuses: ${(e as Error).message}`);
      }
    };
  },
};
