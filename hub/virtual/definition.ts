// Virtual sensor definitions (JSON or YAML): the document's shape, checked member by member; a problem names the bad one.
import { HubError } from '../errors.ts';
import { compileExpression, type CompiledExpression, ExpressionError, EXPRESSION_LIMITS, type ExpressionLimits } from './expression.ts';

/** Where a stream's samples come from: one Thing, several, or the directory's Things of a type; a property or an event. */
export interface InputDefinition {
  thing?: string;
  things?: string[];
  /** Directory query: every Thing whose TD has this @type (e.g. `hub:CookieBtScanner`), now and as they are registered. */
  query?: { type: string };
  /** The property whose value is the sample (default: the input's name). */
  property?: string;
  /** The observed property of the input's observations (provenance IRIs), when it is named otherwise than `property`. */
  observation?: string;
  /** Per-key windows and joins: `thing` (default) or a field of the message (e.g. `mac`). */
  key?: string;
}

export type Aggregate = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'median' | 'stddev' | `p${number}`;

export type OperatorDefinition =
  | { id: string; op: 'filter'; from: string; where: string }
  | { id: string; op: 'map'; from: string; expression: string }
  | { id: string; op: 'window'; from: string; size?: number; count?: number; aggregates: Aggregate[]; perKey?: boolean; minSamples?: number; outliers?: { mad: number }; emitEvery?: number }
  | { id: string; op: 'outliers'; from: string; over: number; threshold: number; minSamples?: number }
  | { id: string; op: 'join'; from: [string, string]; within: number }
  | { id: string; op: 'fusion'; from: string[]; method: 'mean' | 'weighted' | 'min' | 'max' | 'expression'; weights?: Record<string, number>; expression?: string; maxAge?: number }
  | { id: string; op: 'travel-time'; origin: string; destination: string; link: string; window?: number; minPairs?: number; maxTrip?: number; passGap?: number; lengthM?: number; minKmh?: number; maxKmh?: number; mad?: number; every?: number }
  | { id: string; op: 'weighted-travel-time'; from: string; counts: string; link?: string; period?: number };

export interface OutputDefinition {
  from: string;
  /** The member of the step's value to publish (default: the whole value). */
  select?: string;
  /** Or a JSONata expression over the step's record ({value, key, time, thing, fields}). */
  expression?: string;
  type?: 'number' | 'integer' | 'string' | 'boolean' | 'object';
  /** QUDT unit (e.g. `qudt:SEC`), written on the property and the observations' results. */
  unit?: string;
  title?: string;
}

export interface StreamDefinition {
  kind: 'stream';
  title?: string;
  description?: string;
  /** Thing Model of the virtual Thing (thing-models/<model>.tm.jsonld); default `virtual-sensor`. */
  model?: string;
  inputs: Record<string, InputDefinition>;
  operators: OperatorDefinition[];
  outputs: Record<string, OutputDefinition>;
  /** An event fired with the output values on each publication (declared in the TD). */
  event?: string;
}

export interface SparqlDefinition {
  kind: 'sparql';
  title?: string;
  description?: string;
  model?: string;
  /** A SPARQL 1.1 SELECT; each variable named in `outputs` becomes a property. */
  query: string;
  /** Evaluate every `every` seconds (>= 1). */
  schedule?: { every: number };
  /** And/or when these Things' observation graphs get data, at most once per `debounce` seconds (>= 1). */
  trigger?: { things: string[]; debounce?: number };
  /** Rows keyed by this variable: each output is then an object {key: value}. */
  keyVariable?: string;
  outputs: Record<string, { variable?: string; type?: 'number' | 'integer' | 'string' | 'boolean' | 'object'; unit?: string; title?: string }>;
}

export type VirtualDefinition = StreamDefinition | SparqlDefinition;

/** A compiled stream definition: expressions compiled, the operator order checked (no cycles, no unknown streams). */
export interface CompiledStream {
  definition: StreamDefinition;
  expressions: Map<string, CompiledExpression>;
  /** Operator ids in dependency order. */
  order: string[];
}

/** A definition that cannot be deployed: 422 naming the member (JSON pointer) and why. */
export class DefinitionError extends HubError {
  override name = 'DefinitionError';
  constructor(message: string, pointer: string, code = 'invalid-definition') {
    super(422, code, message, { extensions: { pointer, validationErrors: [{ field: pointer, description: message }] } });
  }
}

export const LIMITS = { inputs: 16, thingsPerInput: 256, operators: 32, outputs: 32, fromPerOperator: 8, text: 200 };
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Virtual sensor names in /virtual/{name}. */
export const SENSOR_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const AGGREGATE = /^(avg|min|max|sum|count|median|stddev|p(100|[1-9]?[0-9]))$/;
const OUTPUT_TYPES = ['number', 'integer', 'string', 'boolean', 'object'];
const esc = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
function fail(message: string, pointer: string, code?: string): never {
  throw new DefinitionError(message, pointer, code);
}
function only(o: Record<string, unknown>, allowed: string[], at: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`Unknown member '${k}'`, `${at}/${esc(k)}`);
}
function text(v: unknown, at: string, optional = false, max = LIMITS.text): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || v === '' || v.length > max) fail(`A non-empty string of at most ${max} characters`, at);
}
function num(v: unknown, at: string, min: number, max: number, optional = true, integer = false): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) fail(`A${integer ? 'n integer' : ' number'} from ${min} to ${max}`, at);
}
function name(v: unknown, at: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) fail('A name: a letter, then letters, digits, _ or -, at most 64', at);
  return v;
}

/** Checks a parsed document and returns it typed; throws DefinitionError naming the first bad member. */
export function validateDefinition(doc: unknown): VirtualDefinition {
  if (!isObj(doc)) fail('A virtual sensor definition is a JSON object', '');
  const kind = doc.kind ?? 'stream';
  if (kind !== 'stream' && kind !== 'sparql') fail("kind is 'stream' or 'sparql'", '/kind');
  text(doc.title, '/title', true);
  text(doc.description, '/description', true, 2000);
  if (doc.model !== undefined && (typeof doc.model !== 'string' || !/^[a-z0-9-]{1,64}$/.test(doc.model))) fail('A Thing Model name (thing-models/<model>.tm.jsonld)', '/model');
  if (kind === 'sparql') return validateSparql(doc);
  only(doc, ['kind', 'title', 'description', 'model', 'inputs', 'operators', 'outputs', 'event'], '');
  if (doc.event !== undefined) name(doc.event, '/event');
  if (!isObj(doc.inputs) || Object.keys(doc.inputs).length === 0) fail('inputs: an object of at least one named input', '/inputs');
  if (Object.keys(doc.inputs).length > LIMITS.inputs) fail(`At most ${LIMITS.inputs} inputs`, '/inputs');
  for (const [n, input] of Object.entries(doc.inputs)) {
    const at = `/inputs/${esc(n)}`;
    name(n, at);
    if (!isObj(input)) fail('An input is an object', at);
    only(input, ['thing', 'things', 'query', 'property', 'observation', 'key'], at);
    const sources = ['thing', 'things', 'query'].filter((k) => input[k] !== undefined);
    if (sources.length !== 1) fail('An input names exactly one of thing, things, query', at);
    text(input.thing, `${at}/thing`, true, 512);
    if (input.things !== undefined) {
      if (!Array.isArray(input.things) || input.things.length === 0 || input.things.length > LIMITS.thingsPerInput) fail(`things: 1 to ${LIMITS.thingsPerInput} Thing ids`, `${at}/things`);
      input.things.forEach((t, i) => text(t, `${at}/things/${i}`, false, 512));
    }
    if (input.query !== undefined) {
      if (!isObj(input.query)) fail('query: {"type": "<TD @type>"}', `${at}/query`);
      only(input.query, ['type'], `${at}/query`);
      text(input.query.type, `${at}/query/type`);
    }
    if (input.property !== undefined) name(input.property, `${at}/property`);
    if (input.observation !== undefined) name(input.observation, `${at}/observation`);
    if (input.key !== undefined) name(input.key, `${at}/key`);
  }
  if (!Array.isArray(doc.operators)) fail('operators: an array (may be empty)', '/operators');
  if (doc.operators.length > LIMITS.operators) fail(`At most ${LIMITS.operators} operators`, '/operators');
  doc.operators.forEach((o, i) => validateOperator(o, `/operators/${i}`));
  validateOutputs(doc.outputs, (o, at) => {
    only(o, ['from', 'select', 'expression', 'type', 'unit', 'title'], at);
    text(o.from, `${at}/from`);
    if (o.select !== undefined) name(o.select, `${at}/select`);
    if (o.select !== undefined && o.expression !== undefined) fail('An output has select or expression, not both', at);
  });
  return doc as unknown as StreamDefinition;
}

function validateOutputs(outputs: unknown, each: (o: Record<string, unknown>, at: string) => void): void {
  if (!isObj(outputs) || Object.keys(outputs).length === 0) fail('outputs: an object of at least one named output (a property of the Thing)', '/outputs');
  if (Object.keys(outputs).length > LIMITS.outputs) fail(`At most ${LIMITS.outputs} outputs`, '/outputs');
  for (const [n, o] of Object.entries(outputs)) {
    const at = `/outputs/${esc(n)}`;
    name(n, at);
    if (!isObj(o)) fail('An output is an object', at);
    each(o, at);
    if (o.type !== undefined && !OUTPUT_TYPES.includes(o.type as string)) fail(`type is one of ${OUTPUT_TYPES.join(', ')}`, `${at}/type`);
    text(o.unit, `${at}/unit`, true);
    text(o.title, `${at}/title`, true);
  }
}

const OPERATOR_MEMBERS: Record<string, string[]> = {
  filter: ['where'],
  map: ['expression'],
  window: ['size', 'count', 'aggregates', 'perKey', 'minSamples', 'outliers', 'emitEvery'],
  outliers: ['over', 'threshold', 'minSamples'],
  join: ['within'],
  fusion: ['method', 'weights', 'expression', 'maxAge'],
  'travel-time': ['origin', 'destination', 'link', 'window', 'minPairs', 'maxTrip', 'passGap', 'lengthM', 'minKmh', 'maxKmh', 'mad', 'every'],
  'weighted-travel-time': ['counts', 'link', 'period'],
};

function validateOperator(o: unknown, at: string): void {
  if (!isObj(o)) fail('An operator is an object', at);
  name(o.id, `${at}/id`);
  if (typeof o.op !== 'string' || !Object.hasOwn(OPERATOR_MEMBERS, o.op)) fail(`op is one of ${Object.keys(OPERATOR_MEMBERS).join(', ')}`, `${at}/op`);
  const op = o.op;
  only(o, ['id', 'op', ...(op === 'travel-time' ? [] : ['from']), ...OPERATOR_MEMBERS[op]!], at);
  if (op === 'join' || op === 'fusion') {
    const n = op === 'join' ? 2 : undefined;
    if (!Array.isArray(o.from) || o.from.length < 2 || o.from.length > (n ?? LIMITS.fromPerOperator) || (n !== undefined && o.from.length !== n)) fail(op === 'join' ? 'from: the two streams to join' : `from: 2 to ${LIMITS.fromPerOperator} streams`, `${at}/from`);
    o.from.forEach((f, i) => text(f, `${at}/from/${i}`));
  } else if (op !== 'travel-time') text(o.from, `${at}/from`);
  switch (op) {
    case 'filter':
      compileExpression(o.where, `${at}/where`);
      break;
    case 'map':
      compileExpression(o.expression, `${at}/expression`);
      break;
    case 'window':
      if (o.size === undefined && o.count === undefined) fail('A window has a size (seconds) or a count', at);
      num(o.size, `${at}/size`, 0.001, 7 * 86_400);
      num(o.count, `${at}/count`, 1, 100_000, true, true);
      if (!Array.isArray(o.aggregates) || o.aggregates.length === 0 || o.aggregates.length > 16) fail('aggregates: 1 to 16 of avg, min, max, sum, count, median, stddev, p<N>', `${at}/aggregates`);
      o.aggregates.forEach((a, i) => {
        if (typeof a !== 'string' || !AGGREGATE.test(a)) fail('An aggregate is avg, min, max, sum, count, median, stddev or p0..p100', `${at}/aggregates/${i}`);
      });
      if (o.perKey !== undefined && typeof o.perKey !== 'boolean') fail('perKey is a boolean', `${at}/perKey`);
      num(o.minSamples, `${at}/minSamples`, 1, 100_000, true, true);
      num(o.emitEvery, `${at}/emitEvery`, 0, 86_400);
      if (o.outliers !== undefined) {
        if (!isObj(o.outliers)) fail('outliers: {"mad": <threshold>}', `${at}/outliers`);
        only(o.outliers, ['mad'], `${at}/outliers`);
        num(o.outliers.mad, `${at}/outliers/mad`, 0.5, 100, false);
      }
      break;
    case 'outliers':
      num(o.over, `${at}/over`, 3, 10_000, false, true);
      num(o.threshold, `${at}/threshold`, 0.5, 100, false);
      num(o.minSamples, `${at}/minSamples`, 3, 10_000, true, true);
      break;
    case 'join':
      num(o.within, `${at}/within`, 0.001, 86_400, false);
      break;
    case 'fusion':
      if (!['mean', 'weighted', 'min', 'max', 'expression'].includes(o.method as string)) fail('method is mean, weighted, min, max or expression', `${at}/method`);
      if (o.method === 'weighted') {
        if (!isObj(o.weights)) fail('A weighted fusion has weights per stream', `${at}/weights`);
        for (const f of o.from as string[]) num((o.weights as Record<string, unknown>)[f], `${at}/weights/${esc(f)}`, 0, 1e6, false);
      }
      if (o.method === 'expression') compileExpression(o.expression, `${at}/expression`);
      else if (o.expression !== undefined) fail("An expression is for method 'expression'", `${at}/expression`);
      num(o.maxAge, `${at}/maxAge`, 0.001, 86_400);
      break;
    case 'travel-time':
      text(o.origin, `${at}/origin`);
      text(o.destination, `${at}/destination`);
      text(o.link, `${at}/link`, false, 64);
      num(o.window, `${at}/window`, 10, 86_400);
      num(o.minPairs, `${at}/minPairs`, 1, 10_000, true, true);
      num(o.maxTrip, `${at}/maxTrip`, 1, 86_400);
      num(o.passGap, `${at}/passGap`, 1, 3600);
      num(o.lengthM, `${at}/lengthM`, 1, 1_000_000);
      num(o.minKmh, `${at}/minKmh`, 0, 500);
      num(o.maxKmh, `${at}/maxKmh`, 1, 1000);
      num(o.mad, `${at}/mad`, 0.5, 100);
      num(o.every, `${at}/every`, 0, 86_400);
      if ((o.minKmh !== undefined || o.maxKmh !== undefined) && o.lengthM === undefined) fail('Speed bounds need the link length (lengthM)', `${at}/lengthM`);
      break;
    case 'weighted-travel-time':
      text(o.counts, `${at}/counts`);
      text(o.link, `${at}/link`, true, 64);
      num(o.period, `${at}/period`, 1, 3600);
      break;
  }
}

function validateSparql(doc: Record<string, unknown>): SparqlDefinition {
  only(doc, ['kind', 'title', 'description', 'model', 'query', 'schedule', 'trigger', 'keyVariable', 'outputs'], '');
  text(doc.query, '/query', false, 8192);
  if (doc.schedule === undefined && doc.trigger === undefined) fail('A SPARQL sensor has a schedule, a trigger or both', '');
  if (doc.schedule !== undefined) {
    if (!isObj(doc.schedule)) fail('schedule: {"every": <seconds, >= 1>}', '/schedule');
    only(doc.schedule, ['every'], '/schedule');
    num(doc.schedule.every, '/schedule/every', 1, 7 * 86_400, false);
  }
  if (doc.trigger !== undefined) {
    if (!isObj(doc.trigger)) fail('trigger: {"things": [...], "debounce": <seconds>}', '/trigger');
    only(doc.trigger, ['things', 'debounce'], '/trigger');
    if (!Array.isArray(doc.trigger.things) || doc.trigger.things.length === 0 || doc.trigger.things.length > LIMITS.thingsPerInput) fail(`things: 1 to ${LIMITS.thingsPerInput} Thing ids`, '/trigger/things');
    doc.trigger.things.forEach((t, i) => text(t, `/trigger/things/${i}`, false, 512));
    num(doc.trigger.debounce, '/trigger/debounce', 1, 3600);
  }
  if (doc.keyVariable !== undefined) name(doc.keyVariable, '/keyVariable');
  validateOutputs(doc.outputs, (o, at) => {
    only(o, ['variable', 'type', 'unit', 'title'], at);
    if (o.variable !== undefined) name(o.variable, `${at}/variable`);
  });
  return doc as unknown as SparqlDefinition;
}

/**
 * Compiles a stream definition: every `from`, `origin`, `destination` and `counts` names an input or an operator,
 * the operator graph has no cycle, expressions compile within their bounds. Throws DefinitionError naming the member.
 */
export function compileStream(definition: StreamDefinition, limits: ExpressionLimits = EXPRESSION_LIMITS): CompiledStream {
  const inputs = new Set(Object.keys(definition.inputs));
  const ops = new Map<string, { op: OperatorDefinition; index: number }>();
  definition.operators.forEach((op, index) => {
    if (inputs.has(op.id) || ops.has(op.id)) fail(`'${op.id}' names another input or operator`, `/operators/${index}/id`);
    ops.set(op.id, { op, index });
  });
  const refs = (op: OperatorDefinition): Array<[string, string]> => {
    switch (op.op) {
      case 'travel-time':
        return [[op.origin, 'origin'], [op.destination, 'destination']];
      case 'weighted-travel-time':
        return [[op.from, 'from'], [op.counts, 'counts']];
      case 'join':
      case 'fusion':
        return op.from.map((f, i) => [f, `from/${i}`]);
      default:
        return [[op.from, 'from']];
    }
  };
  for (const [id, { op, index }] of ops) {
    for (const [ref, member] of refs(op)) {
      if (!inputs.has(ref) && !ops.has(ref)) fail(`'${ref}' is neither an input nor an operator of this definition`, `/operators/${index}/${member}`, 'unknown-input');
      if ((op.op === 'travel-time' || (op.op === 'weighted-travel-time' && member === 'counts')) && !inputs.has(ref)) fail(`'${ref}' must be an input (detections or counts come from Things)`, `/operators/${index}/${member}`, 'unknown-input');
      if (ref === id) fail(`Operator '${id}' reads its own output`, `/operators/${index}/${member}`, 'definition-cycle');
    }
  }
  // Depth-first topological order; a back edge is a cycle (named at the operator that closes it).
  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    const { op, index } = ops.get(id)!;
    if (state.get(id) === 'open') fail(`Operators form a cycle: ${[...path, id].join(' -> ')}`, `/operators/${index}/id`, 'definition-cycle');
    state.set(id, 'open');
    for (const [ref] of refs(op)) if (ops.has(ref)) visit(ref, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ops.keys()) visit(id, []);
  const expressions = new Map<string, CompiledExpression>();
  definition.operators.forEach((op, i) => {
    if (op.op === 'filter') expressions.set(op.id, compileExpression(op.where, `/operators/${i}/where`, limits));
    if (op.op === 'map' || (op.op === 'fusion' && op.method === 'expression')) expressions.set(op.id, compileExpression(op.expression, `/operators/${i}/expression`, limits));
  });
  for (const [n, out] of Object.entries(definition.outputs)) {
    if (!ops.has(out.from) && !inputs.has(out.from)) fail(`'${out.from}' is neither an input nor an operator of this definition`, `/outputs/${esc(n)}/from`, 'unknown-input');
    if (out.expression !== undefined) expressions.set(`output:${n}`, compileExpression(out.expression, `/outputs/${esc(n)}/expression`, limits));
  }
  return { definition, expressions, order };
}

export { ExpressionError };
