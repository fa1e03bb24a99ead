// Recognises the dashboard query shapes the aggregates answer (see ./README.md), as plans; anything else is undefined.
//
// A cheap text check runs first (SELECT, the SOSA namespace, < 4 KiB); only then is the query parsed with sparqljs
// (with the hub's linear lexer) and its syntax tree matched. Plans are cached by query text: dashboards repeat queries.
import sparqljs from 'sparqljs';
import '../../sparql/sparqljs-lexer.ts';
import { RDF_TYPE, SOSA } from './scan.ts';
import { HOUR_MS } from './model.ts';
import { timeValue } from './terms.ts';

export const MAX_QUERY_CHARS = 4096;
const XSD_DATETIME = 'http://www.w3.org/2001/XMLSchema#dateTime';
const FIELDS: Record<string, 'sensor' | 'property' | 'time' | 'value'> = { [`${SOSA}madeBySensor`]: 'sensor', [`${SOSA}observedProperty`]: 'property', [`${SOSA}resultTime`]: 'time', [`${SOSA}hasSimpleResult`]: 'value' };
type Field = 'obs' | 'g' | 'sensor' | 'property' | 'time' | 'value';

/** One `GRAPH ?g { ?obs ... }` observation pattern: which variable holds which field, and constant sensor/property. */
interface ObsPattern {
  vars: Map<string, Field>;
  sensor?: string;
  property?: string;
}

export interface AggregatePlan {
  kind: 'aggregate';
  /** Projection, in order: a group key or an aggregate. */
  columns: ({ var: string; key: 'g' | 'sensor' | 'property' | 'hour' } | { var: string; fn: 'count' | 'avg' | 'sum' | 'min' | 'max' })[];
  keys: ('g' | 'sensor' | 'property' | 'hour')[];
  grouped: boolean;
  sensor?: string;
  property?: string;
  from?: number;
  to?: number;
  numericOnly: boolean;
  order: { var: string; desc: boolean }[];
  limit?: number;
  offset: number;
}

export interface LatestPlan {
  kind: 'latest';
  columns: { var: string; field: Field }[];
  sensor?: string;
  property?: string;
  limit: number;
  offset: number;
}

export interface LatestPerKeyPlan {
  kind: 'latestPerKey';
  columns: { var: string; field: Field }[];
  order: { var: string; desc: boolean }[];
}

export type Plan = AggregatePlan | LatestPlan | LatestPerKeyPlan;

const cache = new Map<string, Plan | null>();
const parser = new sparqljs.Parser();

/** The plan for a query text, or undefined when the aggregates do not answer it. */
export function recognise(sparql: string): Plan | undefined {
  if (sparql.length > MAX_QUERY_CHARS || !sparql.includes('/ns/sosa/') || !/select/i.test(sparql)) return undefined;
  let plan = cache.get(sparql);
  if (plan === undefined) {
    try {
      plan = match(parser.parse(sparql) as any) ?? null;
    } catch {
      plan = null;
    }
    if (cache.size >= 256) cache.delete(cache.keys().next().value!);
    cache.set(sparql, plan);
  }
  return plan ?? undefined;
}

const isVar = (t: any): t is { termType: 'Variable'; value: string } => t?.termType === 'Variable';

function match(q: any): Plan | undefined {
  if (q.type !== 'query' || q.queryType !== 'SELECT' || q.distinct || q.reduced || q.from || q.values || q.having) return undefined;
  if (q.variables.length === 1 && q.variables[0].termType === 'Wildcard') return undefined;
  return matchLatestPerKey(q) ?? matchSimple(q);
}

/** `GRAPH ?g { bgp OPTIONAL{...}* }`: every triple about one subject variable, one of the five statements each. */
function obsPattern(p: any): ObsPattern | undefined {
  if (p?.type !== 'graph' || !isVar(p.name)) return undefined;
  const vars = new Map<string, Field>([[p.name.value, 'g']]);
  const out: ObsPattern = { vars };
  let subject: string | undefined;
  const seen = new Set<string>();
  const triple = (t: any): boolean => {
    if (!isVar(t.subject) || t.predicate?.termType !== 'NamedNode') return false;
    if (subject !== undefined && t.subject.value !== subject) return false;
    if (subject === undefined) {
      if (vars.has(t.subject.value)) return false;
      subject = t.subject.value;
      vars.set(subject!, 'obs');
    }
    const pred: string = t.predicate.value;
    if (seen.has(pred)) return false;
    seen.add(pred);
    if (pred === RDF_TYPE) return t.object?.termType === 'NamedNode' && t.object.value === `${SOSA}Observation`;
    const field = FIELDS[pred];
    if (!field) return false;
    if (isVar(t.object)) {
      if (vars.has(t.object.value)) return false;
      vars.set(t.object.value, field);
      return true;
    }
    if (t.object?.termType === 'NamedNode' && (field === 'sensor' || field === 'property')) {
      out[field as 'sensor' | 'property'] = t.object.value;
      return true;
    }
    return false;
  };
  for (const part of p.patterns) {
    if (part.type === 'bgp') {
      if (!part.triples.every(triple)) return undefined;
    } else if (part.type === 'optional' && part.patterns.length === 1 && part.patterns[0].type === 'bgp') {
      if (!part.patterns[0].triples.every(triple)) return undefined;
    } else return undefined;
  }
  return subject === undefined ? undefined : out;
}

/** FILTERs: an hour-aligned `?time >= lo && ?time < hi` (either bound optional) and `isNumeric(?value)`. */
function filters(list: any[], pat: ObsPattern, plan: { from?: number; to?: number; numericOnly: boolean }): boolean {
  const bound = (e: any): boolean => {
    if (e?.type !== 'operation') return false;
    if (e.operator === '&&') return e.args.every(bound);
    if (e.operator === 'isnumeric') return isVar(e.args[0]) && pat.vars.get(e.args[0].value) === 'value' && (plan.numericOnly = true);
    const [a, b] = e.args ?? [];
    if (!isVar(a) || pat.vars.get(a.value) !== 'time' || b?.termType !== 'Literal' || b.datatype?.value !== XSD_DATETIME) return false;
    const t = timeValue(b.value, XSD_DATETIME);
    if (!t || t.ms % HOUR_MS !== 0) return false;
    if (e.operator === '>=' && plan.from === undefined) plan.from = t.ms;
    else if (e.operator === '<' && plan.to === undefined) plan.to = t.ms;
    else return false;
    return true;
  };
  return list.every((f) => f.type === 'filter' && bound(f.expression));
}

function orderBy(q: any, allowed: Set<string>): { var: string; desc: boolean }[] | undefined {
  const order: { var: string; desc: boolean }[] = [];
  for (const o of q.order ?? []) {
    if (!isVar(o.expression) || !allowed.has(o.expression.value)) return undefined;
    order.push({ var: o.expression.value, desc: !!o.descending });
  }
  return order;
}

function matchSimple(q: any): Plan | undefined {
  const where: any[] = q.where ?? [];
  const graphs = where.filter((p) => p.type === 'graph');
  if (graphs.length !== 1) return undefined;
  const g = graphs[0];
  // FILTERs may sit beside the GRAPH pattern or inside it.
  const inner = g.patterns.filter((p: any) => p.type !== 'filter');
  const pat = obsPattern({ ...g, patterns: inner });
  if (!pat) return undefined;
  const filterList = [...where.filter((p) => p !== g), ...g.patterns.filter((p: any) => p.type === 'filter')];
  const hasAggregate = q.variables.some((v: any) => v.expression?.type === 'aggregate');
  if (q.group || hasAggregate) return aggregatePlan(q, pat, filterList);
  if (filterList.length || !q.order || q.order.length !== 1 || q.limit === undefined) return undefined;
  const o = q.order[0];
  if (!o.descending || !isVar(o.expression) || pat.vars.get(o.expression.value) !== 'time') return undefined;
  const columns = projection(q, pat);
  if (!columns) return undefined;
  const limit = Number(q.limit);
  const offset = Number(q.offset ?? 0);
  const constant = pat.sensor !== undefined || pat.property !== undefined;
  if (constant ? limit !== 1 || offset !== 0 : limit + offset > 1000) return undefined;
  return { kind: 'latest', columns, sensor: pat.sensor, property: pat.property, limit, offset };
}

function projection(q: any, pat: ObsPattern): { var: string; field: Field }[] | undefined {
  const columns: { var: string; field: Field }[] = [];
  for (const v of q.variables) {
    if (!isVar(v) || !pat.vars.has(v.value)) return undefined;
    columns.push({ var: v.value, field: pat.vars.get(v.value)! });
  }
  return columns;
}

function aggregatePlan(q: any, pat: ObsPattern, filterList: any[]): AggregatePlan | undefined {
  const plan: AggregatePlan = { kind: 'aggregate', columns: [], keys: [], grouped: !!q.group, sensor: pat.sensor, property: pat.property, numericOnly: false, order: [], offset: Number(q.offset ?? 0) };
  if (!filters(filterList, pat, plan)) return undefined;
  const keyVars = new Map<string, AggregatePlan['keys'][number]>();
  for (const grp of q.group ?? []) {
    const e = grp.expression;
    if (isVar(e) && !grp.variable) {
      const f = pat.vars.get(e.value);
      if (f !== 'g' && f !== 'sensor' && f !== 'property') return undefined;
      keyVars.set(e.value, f);
      plan.keys.push(f);
    } else if (e?.type === 'operation' && e.operator === 'hours' && isVar(e.args[0]) && pat.vars.get(e.args[0].value) === 'time' && isVar(grp.variable)) {
      if (pat.vars.has(grp.variable.value)) return undefined;
      keyVars.set(grp.variable.value, 'hour');
      plan.keys.push('hour');
    } else return undefined;
  }
  if (new Set(plan.keys).size !== plan.keys.length) return undefined;
  const aggVars = new Set<string>();
  for (const v of q.variables) {
    if (isVar(v)) {
      const key = keyVars.get(v.value);
      if (!key) return undefined;
      plan.columns.push({ var: v.value, key });
      continue;
    }
    const e = v.expression;
    if (e?.type !== 'aggregate' || e.distinct || !isVar(v.variable)) return undefined;
    const fn = e.aggregation as string;
    const arg = e.expression;
    if (fn === 'count') {
      if (!(arg?.termType === 'Wildcard' || (isVar(arg) && pat.vars.has(arg.value)) || (arg && Object.keys(arg).length === 0))) return undefined;
    } else if (fn === 'avg' || fn === 'sum' || fn === 'min' || fn === 'max') {
      if (!isVar(arg) || pat.vars.get(arg.value) !== 'value') return undefined;
    } else return undefined;
    plan.columns.push({ var: v.variable.value, fn: fn as 'count' });
    aggVars.add(v.variable.value);
  }
  const order = orderBy(q, new Set(keyVars.keys()));
  if (!order) return undefined;
  plan.order = order;
  if (q.limit !== undefined) plan.limit = Number(q.limit);
  return plan;
}

/**
 * The latest observation per (sensor, property): a sub-SELECT of MAX(resultTime) grouped by sensor and property, joined
 * with a second observation pattern on the same sensor, property and time variables.
 */
function matchLatestPerKey(q: any): LatestPerKeyPlan | undefined {
  const where: any[] = q.where ?? [];
  if (where.length !== 2 || q.limit !== undefined || q.offset !== undefined) return undefined;
  const sub = where.find((p) => p.type === 'group' && p.patterns.length === 1 && p.patterns[0].queryType === 'SELECT')?.patterns[0];
  const outer = obsPattern(where.find((p) => p.type === 'graph'));
  if (!sub || !outer || sub.distinct || sub.having || sub.order || sub.limit !== undefined || sub.values) return undefined;
  if (sub.where?.length !== 1) return undefined;
  const inner = obsPattern(sub.where[0]);
  if (!inner || inner.sensor || inner.property || outer.sensor || outer.property) return undefined;
  const vs = sub.variables;
  if (vs.length !== 3 || !isVar(vs[0]) || !isVar(vs[1]) || vs[2].expression?.aggregation !== 'max' || vs[2].expression.distinct) return undefined;
  const [s, p] = [vs[0].value, vs[1].value];
  const maxArg = vs[2].expression.expression;
  const t = vs[2].variable?.value;
  if (inner.vars.get(s) !== 'sensor' || inner.vars.get(p) !== 'property' || !isVar(maxArg) || inner.vars.get(maxArg.value) !== 'time') return undefined;
  const groups = (sub.group ?? []).map((g: any) => (isVar(g.expression) && !g.variable ? g.expression.value : undefined));
  if (groups.length !== 2 || !groups.includes(s) || !groups.includes(p)) return undefined;
  if (outer.vars.get(s) !== 'sensor' || outer.vars.get(p) !== 'property' || outer.vars.get(t) !== 'time' || ![...outer.vars.values()].includes('value')) return undefined;
  // The sub-SELECT's other variables are local to it; the outer pattern must not reuse them beyond s, p, t.
  const columns = projection(q, outer);
  if (!columns) return undefined;
  const order = orderBy(q, new Set([s, p]));
  if (!order) return undefined;
  return { kind: 'latestPerKey', columns, order };
}
