// Fuzz targets: the maintained aggregates' query recogniser (user SPARQL text on the event loop) and N-Quads line scan.
import { readdirSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { evaluate, serialise } from '../../../hub/store/aggregates/answer.ts';
import { decodeCheckpoint, encodeCheckpoint, MAGIC } from '../../../hub/store/aggregates/checkpoint.ts';
import { scanNQuads } from '../../../hub/store/aggregates/scan.ts';
import { recognise } from '../../../hub/store/aggregates/shapes.ts';
import { AggregateState } from '../../../hub/store/aggregates/state.ts';
import { enc, ROOT } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';
import * as dash from '../../bench/store/aggregate-queries.ts';
import { countQuery, dayAverageByFilter, latestQuery } from '../../bench/store/queries.ts';
import { observationQuads } from '../../bench/store/sosa-data.ts';

function querySeeds(): Uint8Array[] {
  const dir = `${ROOT}sparql/`;
  const saved = readdirSync(dir).filter((f) => f.endsWith('.rq')).map((f) => readFileSync(dir + f, 'utf8'));
  return [...saved, countQuery, latestQuery(1), dayAverageByFilter('2026-01-01'), dash.countPerProperty, dash.hourlyAverageAll('2026-01-01')].map(enc);
}

export const aggregatesQueryTarget: FuzzTarget = {
  name: 'aggregates-query',
  description: 'SPARQL text -> recognise (cheap pre-check, sparqljs with the linear lexer, shape match) -> plan or undefined',
  seeds: querySeeds,
  tokens: ['SELECT', 'WHERE', 'GRAPH', 'OPTIONAL', 'FILTER', 'GROUP BY', 'ORDER BY', 'DESC(', 'LIMIT', 'COUNT(*)', 'AVG(', 'MAX(', 'HOURS(', 'isNumeric(', 'sosa:', '?time', '?g', '"2026-01-01T00:00:00Z"^^xsd:dateTime', '{', '}', '.', ';', '&&'],
  run(input) {
    // Never throws: an unreadable or unknown query is delegated to the store.
    recognise(text(input));
  },
};

const nquadSeeds = (): Uint8Array[] => [enc(Array.from({ length: 4 }, (_, k) => observationQuads('http://hub.test', { sensors: 2, observations: 8, days: 1 }, k % 2, k)).join(''))];

export const aggregatesScanTarget: FuzzTarget = {
  name: 'aggregates-scan',
  description: 'N-Quads text -> scanNQuads (in-place fast path) -> AggregateState.ingest; the same rows as the full tokenizer (text with a \\u escape appended)',
  seeds: nquadSeeds,
  tokens: ['<', '>', '"', '^^', '@en', '_:b', ' .', '\n', '\t', '\\"', '\\u0041', '<http://www.w3.org/ns/sosa/madeBySensor>', '<http://www.w3.org/ns/sosa/resultTime>', '<http://www.w3.org/2001/XMLSchema#double>'],
  run(input) {
    const t = text(input);
    const fast = scanNQuads(t);
    // What the scan found goes into the aggregates as insert() puts it (twice: the second is a redelivery).
    const state = new AggregateState();
    state.allDirty = false;
    state.ingest(fast);
    state.ingest(fast);
    return () => {
      // Oracle: a trailing comment holding "\u" sends the whole text through the full tokenizer; both must agree.
      const full = scanNQuads(`${t}\n# \\u0000\n`);
      if (fast.unreadable || full.unreadable) return;
      const a = JSON.stringify([...fast.graphs].map(([g, m]) => [g, [...m]]));
      const b = JSON.stringify([...full.graphs].map(([g, m]) => [g, [...m]]));
      if (a !== b) throw new OracleError(`fast scan and full tokenizer differ:\n${a}\n${b}`);
    };
  },
};

const CHECKPOINT_MARK = 'snapshot - log 1:1234';
const CHECKPOINT_QUERIES = [dash.countAll, dash.countPerSensor, dash.latestPerProperty, dash.latestObservations, dash.averagePerSensor, dash.hourlyAverage('2026-01-01')];

function checkpointSeeds(): Uint8Array[] {
  const state = new AggregateState();
  state.allDirty = false;
  for (let k = 0; k < 4; k++) state.ingest(scanNQuads(observationQuads('http://hub.test', { sensors: 3, observations: 24, days: 2 }, k % 3, k)));
  return [new Uint8Array(encodeCheckpoint(state, CHECKPOINT_MARK)), new Uint8Array(encodeCheckpoint(new AggregateState(), CHECKPOINT_MARK))];
}

export const aggregatesCheckpointTarget: FuzzTarget = {
  name: 'aggregates-checkpoint',
  description: 'a saved aggregates file (CRC recomputed so mutations reach the header and the v8 payload) -> decodeCheckpoint; a loaded state then answers the dashboard shapes',
  seeds: checkpointSeeds,
  tokens: ['{"version":1,"mark":"', '"}', '\u0000', 'HUB-AGGREGATES\n'],
  run(input) {
    const buf = Buffer.from(input);
    if (buf.length >= MAGIC.length + 8) buf.writeUInt32LE(crc32(buf.subarray(MAGIC.length + 4)), MAGIC.length);
    const state = new AggregateState();
    // Never throws: a file that cannot be used is refused (the aggregates are then rebuilt from the store).
    if (decodeCheckpoint(buf, CHECKPOINT_MARK, state) !== undefined) return;
    for (const q of CHECKPOINT_QUERIES) {
      const plan = recognise(q);
      if (!plan) throw new OracleError(`not a dashboard shape: ${q}`);
      const r = evaluate(plan, state);
      if (r) serialise(r.vars, r.rows);
    }
  },
};
