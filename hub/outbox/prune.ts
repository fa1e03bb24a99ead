// What the outbox sends: a batch of outbox entries -> N-Triples per graph, blank nodes skolemised, optionally pruned to
// chosen properties or replaced by per-minute aggregates (count, mean, min, max per sensor, property and minute).
import { DataFactory, Parser } from 'n3';
import { writeNQuads } from '../mapping/nquads.ts';
import type { Quad, Term } from '@rdfjs/types';
import type { OutboxEntry } from './log.ts';

const SOSA = 'http://www.w3.org/ns/sosa/';
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const XSD = 'http://www.w3.org/2001/XMLSchema#';
const QUDT = 'http://qudt.org/schema/qudt/';
const TIME = 'http://www.w3.org/2006/time#';
const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const NGSI_PROPERTY_TYPES = new Set([`${NGSI}Property`, `${NGSI}GeoProperty`, `${NGSI}Relationship`]);
const HUB = 'https://w3id.org/wot-hub#';
const PROPERTY_IRI = /\/properties\/([^/?#]+)$/;
const { namedNode, literal, quad, defaultGraph } = DataFactory;

export interface PruneOptions {
  /** Keep only the observations (SOSA and NGSI-LD) of these property names; undefined = all. */
  properties?: string[];
  /** 'minute': numeric SOSA observations become one aggregate per sensor, property and minute. */
  aggregate: 'none' | 'minute';
  /** Base IRI of skolemised blank nodes (`<base>/.well-known/genid/<label>`, RFC 7511 style). */
  skolemBase: string;
}

export interface Prepared {
  /** N-Triples per graph (null: the default graph), in the order the graphs first appear. */
  graphs: Map<string | null, string>;
  triples: number;
  /** Observations left out by `properties`. */
  prunedObservations: number;
  /** Aggregates made (minute mode). */
  aggregates: number;
  /** Entries whose N-Quads did not parse (a damaged entry): left out, counted. */
  unreadable: number;
}

/** Parses the entries' N-Quads (labels kept: they are unique per message) and turns them into what goes upstream. */
export function prepareBatch(entries: OutboxEntry[], options: PruneOptions): Prepared {
  const builder = new BatchBuilder(options, entries[0]?.seq ?? 0);
  for (const entry of entries) builder.add(entry);
  return builder.finish();
}

/**
 * prepareBatch one entry at a time, so a caller can yield to the event loop between entries. Without pruning the
 * lines the hub's own N-Quads writer made are taken apart by a line scanner (no RDF parse); an entry it cannot read
 * goes through n3, like every entry when pruning or aggregating.
 */
export class BatchBuilder {
  private readonly byGraph = new Map<string | null, Set<string>>();
  private readonly minuteGroups = new Map<string, MinuteGroup>();
  private readonly keep?: Set<string>;
  private prunedObservations = 0;
  private unreadable = 0;

  constructor(
    private readonly options: PruneOptions,
    private readonly batchSeq: number,
  ) {
    if (options.properties) this.keep = new Set(options.properties);
  }

  private lines(graph: string | null): Set<string> {
    let set = this.byGraph.get(graph);
    if (!set) this.byGraph.set(graph, (set = new Set()));
    return set;
  }

  add(entry: OutboxEntry): void {
    if (!this.keep && this.options.aggregate === 'none' && this.scanned(entry)) return;
    let quads: Quad[];
    try {
      quads = (new Parser({ format: 'N-Quads', blankNodePrefix: '' }).parse(entry.nquads) as Quad[]).map((q) => skolemise(q, this.options.skolemBase));
    } catch {
      this.unreadable += 1;
      return;
    }
    // What an upstream's N-Triples parser refuses (a relative or malformed IRI) would refuse the whole batch there.
    if (!quads.every(validTerms)) {
      this.unreadable += 1;
      return;
    }
    if (this.keep) {
      const kept = pruneToProperties(quads, this.keep);
      this.prunedObservations += kept.pruned;
      quads = kept.quads;
    }
    if (this.options.aggregate === 'minute') quads = collectMinutes(quads, entry.graph, this.minuteGroups);
    this.addQuads(quads, entry.graph);
  }

  private addQuads(quads: Quad[], graph: string | null): void {
    for (const q of quads) {
      const g = q.graph.termType === 'DefaultGraph' ? graph : q.graph.value;
      this.lines(g).add(writeNQuads([quad(q.subject, q.predicate, q.object, defaultGraph())]).slice(0, -1));
    }
  }

  /** The fast path: every line scanned, else false (nothing added) and the entry goes through n3. */
  private scanned(entry: OutboxEntry): boolean {
    const out: Array<[string | null, string]> = [];
    const text = entry.nquads;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (end > start) {
        const line = scanLine(text, start, end, this.options.skolemBase);
        if (!line) return false;
        out.push([line.graph ?? entry.graph, line.triple]);
      }
      start = end + 1;
    }
    for (const [g, t] of out) this.lines(g).add(t);
    return true;
  }

  finish(): Prepared {
    let aggregates = 0;
    if (this.options.aggregate === 'minute') {
      for (const group of this.minuteGroups.values()) {
        this.addQuads(aggregateQuads(group, this.batchSeq), group.graph);
        aggregates += 1;
      }
    }
    // One copy of each triple (a Thing's own triples come with every message; RDF graphs are sets anyway).
    const graphs = new Map<string | null, string>();
    let triples = 0;
    for (const [g, lines] of this.byGraph) {
      if (!lines.size) continue;
      triples += lines.size;
      graphs.set(g, `${[...lines].join('\n')}\n`);
    }
    return { graphs, triples, prunedObservations: this.prunedObservations, aggregates, unreadable: this.unreadable };
  }
}

/**
 * One N-Quads line as hub/mapping/nquads.ts writes it (`<s> <p> <o>|"lit"[@lang|^^<dt>]|_:b [<g>] .`): the triple's
 * text with blank nodes skolemised, and the graph IRI if the line names one; undefined for anything else.
 */
export function scanLine(text: string, start: number, end: number, base: string): { triple: string; graph?: string } | undefined {
  const terms: string[] = [];
  let i = start;
  while (i < end && terms.length < 5) {
    const c = text.charCodeAt(i);
    if (c === 32) {
      i += 1;
      continue;
    }
    if (c === 60) {
      // <IRI>: the writer percent-encodes every character that could end or break it.
      const close = text.indexOf('>', i);
      if (close < 0 || close >= end || !ABSOLUTE_IRI.test(text.slice(i + 1, close))) return undefined;
      terms.push(text.slice(i, close + 1));
      i = close + 1;
    } else if (c === 95 && text.charCodeAt(i + 1) === 58) {
      let j = i + 2;
      while (j < end && text.charCodeAt(j) !== 32) j += 1;
      const label = text.slice(i + 2, j);
      if (!/^[A-Za-z0-9_.-]+$/.test(label)) return undefined;
      terms.push(`<${base}/.well-known/genid/${label}>`);
      i = j;
    } else if (c === 34) {
      let j = i + 1;
      while (j < end && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (j >= end || !LITERAL_BODY.test(text.slice(i + 1, j))) return undefined;
      j += 1;
      if (text.charCodeAt(j) === 64) {
        const from = j + 1;
        while (j < end && text.charCodeAt(j) !== 32) j += 1;
        if (!LANGUAGE.test(text.slice(from, j))) return undefined;
      } else if (text.charCodeAt(j) === 94 && text.charCodeAt(j + 1) === 94 && text.charCodeAt(j + 2) === 60) {
        const close = text.indexOf('>', j);
        if (close < 0 || close >= end || !ABSOLUTE_IRI.test(text.slice(j + 3, close))) return undefined;
        j = close + 1;
      }
      terms.push(text.slice(i, j));
      i = j;
    } else if (c === 46 && i === end - 1) {
      terms.push('.');
      i += 1;
    } else return undefined;
  }
  if (terms[terms.length - 1] !== '.' || i !== end) return undefined;
  const [s, p, o] = terms;
  if (terms.length === 4 && s![0] !== '"' && p![0] === '<' && !p!.includes('/.well-known/genid/')) return { triple: `${s} ${p} ${o} .` };
  if (terms.length === 5 && s![0] !== '"' && p![0] === '<' && terms[3]![0] === '<') return { triple: `${s} ${p} ${o} .`, graph: terms[3]!.slice(1, -1) };
  return undefined;
}

/** An absolute IRI with none of the characters N-Triples forbids in one (the hub's writer percent-encodes them). */
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020<>"{}|^`\\]*$/;

const LITERAL_BODY = /^(?:[^"\\\n\r]|\\[tbnrf"'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*$/;
const LANGUAGE = /^[a-zA-Z]+(?:-[a-zA-Z0-9]+)*$/;

function validTerms(q: Quad): boolean {
  for (const t of [q.subject, q.predicate, q.object, q.graph]) {
    if (t.termType === 'NamedNode' && !ABSOLUTE_IRI.test(t.value)) return false;
    if (t.termType === 'Literal' && t.datatype && !ABSOLUTE_IRI.test(t.datatype.value)) return false;
  }
  return true;
}

function skolemise(q: Quad, base: string): Quad {
  if (q.subject.termType !== 'BlankNode' && q.object.termType !== 'BlankNode' && q.graph.termType !== 'BlankNode') return q;
  const fix = <T extends Term>(t: T): T => (t.termType === 'BlankNode' ? (namedNode(`${base}/.well-known/genid/${encodeURIComponent(t.value)}`) as unknown as T) : t);
  return quad(fix(q.subject) as Quad['subject'], q.predicate, fix(q.object) as Quad['object'], fix(q.graph) as Quad['graph']);
}

const propertyName = (iri: string): string | undefined => {
  const m = PROPERTY_IRI.exec(iri);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
};

/**
 * Leaves out the observations of properties not chosen: SOSA observations by their sosa:observedProperty
 * (`.../properties/<name>`), NGSI-LD property nodes by the attribute name that links them
 * (`ngsi-ld/default-context/<name>`), with the nodes they own (IRIs below theirs, or skolemised blank nodes they link).
 */
export function pruneToProperties(quads: Quad[], keep: Set<string>): { quads: Quad[]; pruned: number } {
  const types = new Map<string, Set<string>>();
  for (const q of quads) {
    if (q.predicate.value !== RDF_TYPE) continue;
    let set = types.get(q.subject.value);
    if (!set) types.set(q.subject.value, (set = new Set()));
    set.add(q.object.value);
  }
  const dropped = new Set<string>();
  let pruned = 0;
  for (const q of quads) {
    if (q.predicate.value === `${SOSA}observedProperty`) {
      const name = propertyName(q.object.value);
      if (name !== undefined && !keep.has(name) && !dropped.has(q.subject.value)) {
        dropped.add(q.subject.value);
        pruned += 1;
      }
    } else if (q.predicate.value.startsWith(`${NGSI}default-context/`) && q.object.termType === 'NamedNode') {
      const name = decodeURIComponentSafe(q.predicate.value.slice(`${NGSI}default-context/`.length));
      const t = types.get(q.object.value);
      if (t && [...t].some((x) => NGSI_PROPERTY_TYPES.has(x)) && !keep.has(name)) dropped.add(q.object.value);
    }
  }
  if (!dropped.size) return { quads, pruned };
  // Owned nodes: IRIs below a dropped one (the observation's /result), and genid nodes a dropped node links.
  const roots = [...dropped];
  for (const q of quads) {
    if (q.subject.termType !== 'NamedNode') continue;
    if (roots.some((r) => q.subject.value.startsWith(`${r}/`))) dropped.add(q.subject.value);
  }
  for (const q of quads) {
    if (dropped.has(q.subject.value) && q.object.termType === 'NamedNode' && q.object.value.includes('/.well-known/genid/')) dropped.add(q.object.value);
  }
  return { quads: quads.filter((q) => !dropped.has(q.subject.value) && !dropped.has(q.object.value)), pruned };
}

const decodeURIComponentSafe = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

interface MinuteGroup {
  graph: string | null;
  sensor: string;
  property: string;
  minute: string;
  unit?: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

const NUMERIC = /^(double|float|decimal|integer|int|long|short|byte|nonNegativeInteger|positiveInteger|unsignedInt|unsignedLong|unsignedShort|unsignedByte)$/;

/**
 * Minute mode: numeric SOSA observations (and their results, and the NGSI-LD property nodes of the same message) are
 * taken out and summed into their (sensor, property, minute of sosa:resultTime) group; everything else stays.
 */
function collectMinutes(quads: Quad[], graph: string | null, groups: Map<string, MinuteGroup>): Quad[] {
  const bySubject = new Map<string, Quad[]>();
  for (const q of quads) {
    let list = bySubject.get(q.subject.value);
    if (!list) bySubject.set(q.subject.value, (list = []));
    list.push(q);
  }
  const dropped = new Set<string>();
  for (const [subject, list] of bySubject) {
    if (!list.some((q) => q.predicate.value === RDF_TYPE && q.object.value === `${SOSA}Observation`)) continue;
    const get = (p: string) => list.find((q) => q.predicate.value === p)?.object;
    const value = get(`${SOSA}hasSimpleResult`);
    const sensor = get(`${SOSA}madeBySensor`);
    const property = get(`${SOSA}observedProperty`);
    const time = get(`${SOSA}resultTime`);
    if (!value || value.termType !== 'Literal' || !value.datatype.value.startsWith(XSD) || !NUMERIC.test(value.datatype.value.slice(XSD.length))) continue;
    const n = Number(value.value);
    const ms = time ? Date.parse(time.value) : NaN;
    if (!sensor || !property || !Number.isFinite(n) || Number.isNaN(ms)) continue;
    const minute = new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
    const result = get(`${SOSA}hasResult`);
    const unit = result ? bySubject.get(result.value)?.find((q) => q.predicate.value === `${QUDT}unit`)?.object.value : undefined;
    const key = `${graph}\u0000${sensor.value}\u0000${property.value}\u0000${minute}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { graph, sensor: sensor.value, property: property.value, minute, unit, count: 0, sum: 0, min: Infinity, max: -Infinity }));
    g.count += 1;
    g.sum += n;
    g.min = Math.min(g.min, n);
    g.max = Math.max(g.max, n);
    dropped.add(subject);
    if (result) dropped.add(result.value);
  }
  if (!dropped.size) return quads;
  // The message's NGSI-LD property nodes carry the same values: they go with the observations.
  for (const [subject, list] of bySubject) {
    if (list.some((q) => q.predicate.value === RDF_TYPE && NGSI_PROPERTY_TYPES.has(q.object.value)) && list.some((q) => q.predicate.value === `${NGSI}observedAt`)) dropped.add(subject);
  }
  return quads.filter((q) => !dropped.has(q.subject.value) && !dropped.has(q.object.value));
}

const dbl = (n: number) => literal(String(n), namedNode(`${XSD}double`));

/** One aggregate observation: `<sensor>/aggregates/<property>/<minute>/<first seq of the batch>` (deterministic per batch). */
function aggregateQuads(g: MinuteGroup, batchSeq: number): Quad[] {
  const name = encodeURIComponent(propertyName(g.property) ?? g.property);
  const id = `${g.sensor}/aggregates/${name}/${g.minute.replace(/[:.]/g, '')}/${batchSeq}`;
  const s = namedNode(id);
  const interval = namedNode(`${id}/interval`);
  const end = new Date(Date.parse(g.minute) + 60_000).toISOString();
  const t = (p: string, o: Quad['object'], subject: Quad['subject'] = s) => quad(subject, namedNode(p), o);
  const out = [
    t(RDF_TYPE, namedNode(`${SOSA}Observation`)),
    t(RDF_TYPE, namedNode(`${HUB}MinuteAggregate`)),
    t(`${SOSA}madeBySensor`, namedNode(g.sensor)),
    t(`${SOSA}observedProperty`, namedNode(g.property)),
    t(`${SOSA}hasSimpleResult`, dbl(g.sum / g.count)),
    t(`${SOSA}resultTime`, literal(end, namedNode(`${XSD}dateTime`))),
    t(`${SOSA}phenomenonTime`, interval),
    t(`${HUB}count`, literal(String(g.count), namedNode(`${XSD}integer`))),
    t(`${HUB}minimum`, dbl(g.min)),
    t(`${HUB}maximum`, dbl(g.max)),
    t(RDF_TYPE, namedNode(`${TIME}Interval`), interval),
    t(`${TIME}hasBeginning`, namedNode(`${id}/begin`), interval),
    t(`${TIME}inXSDDateTimeStamp`, literal(g.minute, namedNode(`${XSD}dateTimeStamp`)), namedNode(`${id}/begin`)),
    t(`${TIME}hasEnd`, namedNode(`${id}/end`), interval),
    t(`${TIME}inXSDDateTimeStamp`, literal(end, namedNode(`${XSD}dateTimeStamp`)), namedNode(`${id}/end`)),
  ];
  if (g.unit) out.push(t(`${QUDT}unit`, namedNode(g.unit)));
  return out;
}
