// Every command as a sosa:Actuation in the store (graph <base>/graphs/actuations/<thingId>), each state with its time.
import { HUB_NS } from '../store/graphs.ts';
import type { QuadStore } from '../store/quad-store.ts';
import { TERMINAL, type CommandRecord, type HistoryEntry } from './types.ts';

const SOSA = 'http://www.w3.org/ns/sosa/';
const PROV = 'http://www.w3.org/ns/prov#';
const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const XSD = 'http://www.w3.org/2001/XMLSchema#';

export function actuationGraph(baseUrl: string, thingId: string): string {
  return `${baseUrl}/graphs/actuations/${encodeURIComponent(thingId)}`;
}

/** An N-Triples string literal body (ECHAR escapes; every other control character as \\uXXXX). */
function lit(s: string): string {
  return `"${s.replace(/[\\"\n\r\t\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  })}"`;
}

const time = (iso: string): string => `${lit(iso)}^^<${XSD}dateTime>`;

/** N-Triples of one command's actuation (on submit) and/or one state (on every change). */
export function actuationTriples(baseUrl: string, c: Readonly<CommandRecord>, entry: HistoryEntry, seq: number, isNew: boolean): string {
  const a = `<${c.id}>`;
  const lines: string[] = [];
  if (isNew) {
    lines.push(
      `${a} <${RDF}type> <${SOSA}Actuation> .`,
      `${a} <${SOSA}madeByActuator> <${baseUrl}/things/${encodeURIComponent(c.thingId)}> .`,
      `${a} <${HUB_NS}thingId> ${lit(c.thingId)} .`,
      `${a} <${HUB_NS}action> ${lit(c.action)} .`,
      `${a} <${SOSA}hasSimpleResult> ${lit(JSON.stringify(c.input ?? null))}^^<${RDF}JSON> .`,
      `${a} <${SOSA}resultTime> ${time(c.submittedAt)} .`,
      `${a} <${HUB_NS}expiresAt> ${time(c.expiresAt)} .`,
    );
    if (c.requester) lines.push(`${a} <${HUB_NS}requestedBy> ${lit(c.requester)} .`);
  }
  const s = `<${c.id}#state-${seq}>`;
  lines.push(
    `${a} <${HUB_NS}state> ${s} .`,
    `${s} <${HUB_NS}status> ${lit(entry.status)} .`,
    `${s} <${PROV}atTime> ${time(entry.at)} .`,
    `${s} <${HUB_NS}evidence> ${lit(entry.evidence)} .`,
    `${s} <${HUB_NS}sequence> "${seq}"^^<${XSD}integer> .`,
  );
  return `${lines.join('\n')}\n`;
}

/** Writes actuations (the store batches concurrent inserts); failures are counted and reported, never thrown. */
export class ActuationRecorder {
  private readonly inflight = new Set<Promise<void>>();
  failed = 0;

  constructor(
    private readonly store: QuadStore,
    private readonly baseUrl: string,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  /**
   * A state of a command: one insert per state of a durable command. A `stream` command (memory only, a servo loop's
   * set point at up to hundreds per second) is written once, when it ends, with its final state only (its sequence
   * number still counts the states before it; their evidence stays in the command's status resource while it is kept):
   * four inserts per set point cost the loop a quarter of its time, and every state of every set point put 27 quads in
   * each store engine where 12 say what was sent and how it ended (robot loop benchmark at 400 Hz, three engines, three
   * A/B pairs: the other threads' CPU 5.1-5.2 -> 4.7-4.8 s per 6 s, p99 16-23 -> 12-19 ms). One that never ends (the
   * hub stopped) is gone like the command itself.
   */
  record(c: Readonly<CommandRecord>, entry: HistoryEntry, isNew: boolean): void {
    if (c.durable === false) {
      if (!TERMINAL.has(entry.status)) return;
      const seq = c.history.lastIndexOf(entry);
      return this.insert(actuationTriples(this.baseUrl, c, entry, seq < 0 ? c.history.length - 1 : seq, true), c.thingId);
    }
    const seq = c.history.lastIndexOf(entry);
    this.insert(actuationTriples(this.baseUrl, c, entry, seq < 0 ? c.history.length - 1 : seq, isNew), c.thingId);
  }

  private insert(triples: string, thingId: string): void {
    const p: Promise<void> = this.store
      .insert(triples, actuationGraph(this.baseUrl, thingId))
      .catch((e) => {
        this.failed += 1;
        this.onError(e);
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  get pending(): number {
    return this.inflight.size;
  }

  /** Resolves once every state recorded so far is in the store. */
  async flushed(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }
}
