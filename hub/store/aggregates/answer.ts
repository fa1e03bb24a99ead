// Answers recognised plans from the aggregates, serialised as the store would (SPARQL JSON directly; XML/CSV/TSV by
// letting Oxigraph serialise the same solutions from a VALUES block, so every format matches byte for byte).
import oxigraph from 'oxigraph';
import type { JsonBinding, JsonTerm, QueryResult } from '../quad-store.ts';
import { HOUR_MS, type KeyAgg, type Latest, type Window } from './model.ts';
import type { AggregatePlan, LatestPerKeyPlan, LatestPlan, Plan } from './shapes.ts';
import type { AggregateState } from './state.ts';
import { canonicalDouble, decimalText, SCALE, XSD_DECIMAL, XSD_DOUBLE, XSD_INTEGER } from './terms.ts';

type Row = Record<string, JsonTerm | undefined>;
const uri = (value: string): JsonTerm => ({ type: 'uri', value });
const int = (n: number | bigint): JsonTerm => ({ type: 'literal', value: String(n), datatype: XSD_INTEGER });

/** Rows for the plan, or undefined when the aggregates cannot give the store's answer (the caller delegates). */
export function evaluate(plan: Plan, state: AggregateState): { vars: string[]; rows: Row[] } | undefined {
  if (plan.kind === 'aggregate') return aggregate(plan, state);
  if (plan.kind === 'latest') return latest(plan, state);
  return latestPerKey(plan, state);
}

// Every field set up front, as model.ts newWindow does: one hidden class for every window, so mergeWindow stays
// monomorphic (windows that gained min/max later took ~1 us per merge here, 4x the whole answer).
function emptyWindow(): Window {
  return { n: 0, other: 0, nInteger: 0, nDecimal: 0, nDouble: 0, dsum: 0, xsum: 0n, min: undefined, max: undefined };
}

function mergeWindow(into: Window, w: Window): void {
  into.n += w.n;
  into.other += w.other;
  into.nInteger += w.nInteger;
  into.nDecimal += w.nDecimal;
  into.nDouble += w.nDouble;
  into.dsum += w.dsum;
  if (w.nInteger + w.nDecimal > 0) into.xsum += w.xsum; // BigInt arithmetic only where there is something to add
  if (w.min && (!into.min || w.min.num < into.min.num)) into.min = w.min;
  if (w.max && (!into.max || w.max.num > into.max.num)) into.max = w.max;
}

function keysOf(state: AggregateState, sensor?: string, property?: string): Iterable<KeyAgg> {
  if (sensor !== undefined) {
    const s = state.keysBySensor.get(sensor) ?? new Set<KeyAgg>();
    return property === undefined ? s : [...s].filter((k) => k.property === property);
  }
  if (property !== undefined) return state.keysByProperty.get(property) ?? [];
  // An array, not a generator: resuming a generator per key cost more than the merge itself.
  const out: KeyAgg[] = [];
  for (const g of state.graphs.values()) for (const k of g.keys.values()) out.push(k);
  return out;
}

/** SPARQL 1.1 section 18.5 set functions over a merged window, with Oxigraph's result types; undefined: cannot say. */
function setFunction(fn: string, w: Window, numericOnly: boolean): JsonTerm | undefined | null {
  const n = numericOnly ? w.n - w.other : w.n;
  if (fn === 'count') return int(n);
  const other = numericOnly ? 0 : w.other;
  if (fn === 'min' || fn === 'max') {
    if (other > 0) return null; // ordering strings against numbers: left to the store
    const kinds = (w.nInteger > 0 ? 1 : 0) + (w.nDecimal > 0 ? 1 : 0) + (w.nDouble > 0 ? 1 : 0);
    if (kinds > 1) return null;
    const v = fn === 'min' ? w.min : w.max;
    return v ? v.term : undefined;
  }
  if (other > 0) return undefined; // SUM/AVG over a non-numeric value is an error: unbound
  if (n === 0) return int(0);
  if (w.nDouble > 0) {
    const text = canonicalDouble(fn === 'sum' ? w.dsum : w.dsum / n);
    return text === undefined ? null : { type: 'literal', value: text, datatype: XSD_DOUBLE };
  }
  if (fn === 'sum') {
    if (w.nDecimal === 0) return int(w.xsum / SCALE);
    return { type: 'literal', value: decimalText(w.xsum), datatype: XSD_DECIMAL };
  }
  return { type: 'literal', value: decimalText(w.xsum / BigInt(n)), datatype: XSD_DECIMAL };
}

function aggregate(plan: AggregatePlan, state: AggregateState): { vars: string[]; rows: Row[] } | undefined {
  const groups = new Map<string, { key: Row; w: Window }>();
  const from = plan.from ?? -Infinity;
  const to = plan.to ?? Infinity;
  const whole = from === -Infinity && to === Infinity;
  // One slot per value of the non-hour keys (one Map lookup per key), holding a window per UTC hour of the day when
  // the hour is a key: no string is built per window.
  const byHour = plan.keys.includes('hour');
  const hourVar = plan.columns.find((c) => 'key' in c && c.key === 'hour')?.var;
  const others = plan.keys.filter((k) => k !== 'hour');
  const otherVars = others.map((k) => plan.columns.find((c) => 'key' in c && c.key === k)?.var);
  const slots = new Map<string, { row: Row; ws: (Window | undefined)[] }>();
  const value = (k: string, key: KeyAgg) => (k === 'g' ? key.graph : k === 'sensor' ? key.sensor : key.property);
  const countOnly = whole && plan.keys.length === 0 && plan.sensor === undefined && plan.property === undefined && !plan.numericOnly && plan.columns.every((c) => 'fn' in c && c.fn === 'count');
  if (countOnly) {
    // "How many observations": the running total.
    const w = emptyWindow();
    w.n = state.total;
    slots.set('', { row: {}, ws: [w] });
  } else {
    for (const key of keysOf(state, plan.sensor, plan.property)) {
      if (key.maxMs < from || key.minMs >= to) continue;
      let id = others.length === 1 ? value(others[0]!, key) : '';
      if (others.length > 1) for (const k of others) id += `${value(k, key)} `;
      let slot = slots.get(id);
      if (!slot) {
        const row: Row = {};
        others.forEach((k, i) => otherVars[i] && (row[otherVars[i]!] = uri(value(k, key))));
        slots.set(id, (slot = { row, ws: [] }));
      }
      const ws = slot.ws;
      if (whole && !byHour) {
        mergeWindow((ws[0] ??= emptyWindow()), key.all);
        continue;
      }
      // forEach, not for-of: no [key, value] array per entry.
      key.hours.forEach((w, hour) => {
        if (!whole && (hour < from || hour >= to)) return;
        const i = byHour ? ((Math.floor(hour / HOUR_MS) % 24) + 24) % 24 : 0;
        mergeWindow((ws[i] ??= emptyWindow()), w);
      });
    }
  }
  for (const [id, slot] of slots) {
    slot.ws.forEach((w, hour) => {
      if (!w) return;
      const row = byHour && hourVar ? { ...slot.row, [hourVar]: int(hour) } : slot.row;
      groups.set(`${id}|${hour}`, { key: row, w });
    });
  }
  if (!plan.grouped && groups.size === 0) groups.set('', { key: {}, w: emptyWindow() });
  const rows: Row[] = [];
  for (const { key, w } of groups.values()) {
    if (plan.numericOnly && w.n - w.other === 0 && plan.grouped) continue; // FILTER(isNumeric) removed every row
    const row: Row = {};
    for (const c of plan.columns) {
      if ('key' in c) row[c.var] = key[c.var];
      else {
        const t = setFunction(c.fn, w, plan.numericOnly);
        if (t === null) return undefined;
        row[c.var] = t;
      }
    }
    rows.push(row);
  }
  sortRows(rows, plan.order);
  const end = plan.limit === undefined ? undefined : plan.offset + plan.limit;
  return { vars: plan.columns.map((c) => c.var), rows: rows.slice(plan.offset, end) };
}

function sortRows(rows: Row[], order: { var: string; desc: boolean }[]): void {
  if (order.length === 0) return;
  rows.sort((a, b) => {
    for (const o of order) {
      const x = a[o.var];
      const y = b[o.var];
      let c = 0;
      if (x && y) {
        if (x.type === 'literal' && y.type === 'literal') c = Number(x.value) - Number(y.value);
        else c = x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
      } else c = x ? 1 : y ? -1 : 0;
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });
}

function fieldTerm(l: Latest, field: string): JsonTerm | undefined {
  switch (field) {
    case 'obs':
      return uri(l.obs);
    case 'g':
      return uri(l.graph);
    case 'sensor':
      return uri(l.sensor);
    case 'property':
      return uri(l.property);
    case 'time':
      return l.time;
    default:
      return l.value;
  }
}

function project(l: Latest, columns: { var: string; field: string }[]): Row {
  const row: Row = {};
  for (const c of columns) row[c.var] = fieldTerm(l, c.field);
  return row;
}

function latest(plan: LatestPlan, state: AggregateState): { vars: string[]; rows: Row[] } | undefined {
  const vars = plan.columns.map((c) => c.var);
  if (plan.sensor === undefined && plan.property === undefined) {
    if (state.topDirty) return undefined;
    return { vars, rows: state.top.latest(plan.offset + plan.limit).slice(plan.offset).map((l) => project(l, plan.columns)) };
  }
  let best: Latest | undefined;
  for (const key of keysOf(state, plan.sensor, plan.property)) {
    const l = key.latest[0];
    if (l && (!best || l.ms > best.ms)) best = l;
  }
  return { vars, rows: best ? [project(best, plan.columns)] : [] };
}

function latestPerKey(plan: LatestPerKeyPlan, state: AggregateState): { vars: string[]; rows: Row[] } | undefined {
  const perKey = new Map<string, KeyAgg[]>();
  for (const g of state.graphs.values()) {
    for (const [k, key] of g.keys) {
      const list = perKey.get(k);
      if (!list || key.maxMs > list[0]!.maxMs) perKey.set(k, [key]);
      else if (key.maxMs === list[0]!.maxMs) list.push(key);
    }
  }
  const rows: Row[] = [];
  for (const keys of perKey.values()) {
    for (const key of keys) {
      if (key.tiesOverflow) return undefined;
      for (const l of key.latest) rows.push(project(l, plan.columns));
    }
  }
  // ORDER BY names the sensor/property variables: map them to the projected columns of those fields.
  sortRows(rows, plan.order);
  return { vars: plan.columns.map((c) => c.var), rows };
}

const JSON_TYPE = 'application/sparql-results+json';
const scratch = new oxigraph.Store();

function sparqlTerm(t: JsonTerm): string {
  if (t.type === 'uri') return `<${t.value}>`;
  const lex = `"${t.value.replace(/[\\"\n\r]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r' })[c]!)}"`;
  return t.datatype ? `${lex}^^<${t.datatype}>` : t['xml:lang'] ? `${lex}@${t['xml:lang']}` : lex;
}

/** The SELECT result in `format` (one of the four SPARQL result formats the store writes). */
export function serialise(vars: string[], rows: Row[], format = JSON_TYPE): QueryResult {
  if (format === JSON_TYPE) {
    const bindings: JsonBinding[] = rows.map((r) => {
      const b: JsonBinding = {};
      for (const v of vars) if (r[v]) b[v] = r[v]!;
      return b;
    });
    return { form: 'select', contentType: format, body: JSON.stringify({ head: { vars }, results: { bindings } }) };
  }
  const head = vars.map((v) => `?${v}`).join(' ');
  const values = rows.map((r) => `(${vars.map((v) => (r[v] ? sparqlTerm(r[v]!) : 'UNDEF')).join(' ')})`).join('\n');
  const q = vars.length ? `SELECT ${head} WHERE { VALUES (${head}) {\n${values}\n} }` : 'SELECT * WHERE {} LIMIT 0';
  return { form: 'select', contentType: format, body: scratch.query(q, { results_format: format } as never) as unknown as string };
}

export { HOUR_MS };
