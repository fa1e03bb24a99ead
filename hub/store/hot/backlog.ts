// The store worker's insert backlog: insert records queued per graph and applied lazily, oldest first in big batches,
// or at once for exactly the graphs a query reads (issue 9: visibility at device rate without waiting for the rest).
//
// Why (test/bench/store/hot-options.ts, in the store benchmark's output): Oxigraph indexes ~100-150k quads/s per core
// whatever the batch size or the number of engines on this 2-core machine, so at 35,000 8-quad messages/s the engines
// fall behind; applied in arrival order, a message became visible only once everything before it was applied (seconds
// of backlog). Here a query first applies the queued inserts of the graphs it names (query-graphs.ts: observation
// graphs are per Thing per day, so that is a few messages), then runs; the rest is applied in the background in
// chunks of CHUNK_BYTES between requests. Inserts commute (set union), so applying per graph out of arrival order
// gives the same store; any other write, a snapshot, a size or a query that may read any graph applies all of it first.
// Each insert request is answered when all its parts are applied (so the host's pending-writes bound still bounds this
// backlog), with the messages that failed to load counted as before (apply.ts semantics: a message that may hold a
// blank node is loaded on its own; a failing group is loaded again message by message).
import type { OxigraphEngine } from '../oxigraph-engine.ts';
import { readRecords } from '../embedded/log-format.ts';

/** One insert request (one framed batch) waiting for its parts. */
export interface BacklogRequest {
  id: number;
  remaining: number;
  errors: number;
  lastError?: string;
}

interface Part {
  graph: string | null;
  bytes: Buffer;
  /** May hold blank nodes: loaded on its own (labels are scoped to one insert). */
  alone: boolean;
  req: BacklogRequest;
  done: boolean;
}

/** Bytes of insert payload applied per background step (~20-40 ms of Oxigraph work for 8-quad messages here). */
export const CHUNK_BYTES = 256 * 1024;
const NL = 0x0a;
const NEWLINE = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

export class Backlog {
  private fifo: Part[] = [];
  private head = 0;
  private readonly byGraph = new Map<string | null, Part[]>();
  /** Payload bytes queued and not applied. */
  bytes = 0;
  /** Quad lines applied (the worker's running count adds these). */
  lines = 0;

  constructor(private readonly engine: () => OxigraphEngine, private readonly done: (req: BacklogRequest) => void) {}

  get empty(): boolean {
    return this.bytes === 0 && this.head >= this.fifo.length;
  }

  /** Queues framed insert records (the bytes appended to the log); a batch without statements is answered at once. */
  enqueue(id: number, records: Uint8Array): void {
    const buf = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
    const req: BacklogRequest = { id, remaining: 0, errors: 0 };
    const parts: Part[] = [];
    const outcome = readRecords(buf, (r) => {
      const p = r.payload;
      if (p.length < 2) throw new Error(`insert record of ${p.length} bytes has no graph length`);
      const gLen = p.readUInt16LE(0);
      if (2 + gLen > p.length) throw new Error(`insert record names a ${gLen}-byte graph but holds ${p.length - 2} bytes`);
      const bytes = p.subarray(2 + gLen);
      if (bytes.length === 0) return;
      parts.push({ graph: gLen ? p.toString('utf8', 2, 2 + gLen) : null, bytes, alone: mayHoldBlankNode(bytes), req, done: false });
    });
    if (outcome.kind !== 'end') throw new Error(`bad insert batch at byte ${outcome.offset}: ${outcome.reason}`);
    req.remaining = parts.length;
    if (parts.length === 0) return this.done(req);
    for (const part of parts) {
      this.fifo.push(part);
      let list = this.byGraph.get(part.graph);
      if (!list) this.byGraph.set(part.graph, (list = []));
      list.push(part);
      this.bytes += part.bytes.length;
    }
  }

  /** Applies the queued inserts of these named graphs and of the default graph. */
  applyGraphs(graphs: Iterable<string>): void {
    const take: Part[] = [];
    for (const g of [null, ...graphs]) {
      const list = this.byGraph.get(g);
      if (!list) continue;
      this.byGraph.delete(g);
      for (const p of list) if (!p.done) take.push(p);
    }
    if (take.length) this.apply(take);
  }

  /** Applies everything queued. */
  applyAll(): void {
    while (!this.empty) this.step(Infinity);
  }

  /** Applies the oldest queued inserts, about `maxBytes` of them (at least one part). */
  step(maxBytes = CHUNK_BYTES): void {
    const take: Part[] = [];
    let bytes = 0;
    while (this.head < this.fifo.length && (bytes < maxBytes || take.length === 0)) {
      const p = this.fifo[this.head++]!;
      if (p.done) continue;
      take.push(p);
      bytes += p.bytes.length;
    }
    if (this.head > 4096 && this.head * 2 > this.fifo.length) (this.fifo = this.fifo.slice(this.head)), (this.head = 0);
    if (this.head >= this.fifo.length) (this.fifo = []), (this.head = 0);
    if (take.length) this.apply(take);
    // Lists whose parts are all applied go (the FIFO takes the oldest, so done parts are each list's first ones).
    for (const p of take) {
      const list = this.byGraph.get(p.graph);
      if (!list) continue;
      let k = 0;
      while (k < list.length && list[k]!.done) k++;
      if (k === list.length) this.byGraph.delete(p.graph);
      else if (k > 0) list.splice(0, k);
    }
  }

  private apply(parts: Part[]): void {
    const groups = new Map<string | null, Part[]>();
    const alone: Part[] = [];
    for (const p of parts) {
      if (p.alone) alone.push(p);
      else {
        let list = groups.get(p.graph);
        if (!list) groups.set(p.graph, (list = []));
        list.push(p);
      }
    }
    const engine = this.engine();
    // One load call costs ~40 us: with few messages per graph, one document with the graph written on each line is
    // cheaper than a load per graph (the trade-off measured for applyInsertRecords in test/bench/store/apply-options.ts).
    if (groups.size > 1 && groups.size * 4 > parts.length - alone.length) {
      let doc = '';
      for (const [graph, list] of groups) {
        for (const p of list) {
          const text = p.bytes.toString('utf8');
          const t = text.endsWith('\n') ? text : `${text}\n`;
          doc += graph === null ? t : t.replace(/\.[ \t]*(\r?\n)/g, ` <${graph}> .$1`);
        }
      }
      if (this.load(engine, doc, null)) {
        for (const list of groups.values()) for (const p of list) this.finish(p, true);
        groups.clear();
      }
    }
    for (const [graph, list] of groups) {
      if (list.length > 1) {
        const chunks: Buffer[] = [];
        for (const p of list) chunks.push(p.bytes, ...(p.bytes[p.bytes.length - 1] !== NL ? [NEWLINE] : []));
        if (this.load(engine, Buffer.concat(chunks), graph)) {
          for (const p of list) this.finish(p, true);
          continue;
        }
      }
      for (const p of list) this.finish(p, this.load(engine, p.bytes, graph));
    }
    for (const p of alone) this.finish(p, this.load(engine, p.bytes, p.graph));
  }

  private lastError: string | undefined;

  private load(engine: OxigraphEngine, data: string | Uint8Array, graph: string | null): boolean {
    try {
      engine.load(data, graph === null ? undefined : graph);
      return true;
    } catch (e) {
      // WASM traps and stack overflows are the worker's to handle (it ends the thread): not a refused message.
      if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) throw e;
      this.lastError = (e as Error).message;
      return false;
    }
  }

  private finish(p: Part, ok: boolean): void {
    if (p.done) return;
    p.done = true;
    this.bytes -= p.bytes.length;
    if (ok) this.lines += countLines(p.bytes);
    else (p.req.errors++, (p.req.lastError = this.lastError));
    p.bytes = EMPTY;
    if (--p.req.remaining === 0) this.done(p.req);
  }
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NL); i >= 0; i = bytes.indexOf(NL, i + 1)) n++;
  return n;
}

const UNDERSCORE = 0x5f;
const COLON = 0x3a;

/** Whether N-Quads bytes may hold a blank node label (`_:`; also matches inside literals, which only costs batching). */
function mayHoldBlankNode(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(UNDERSCORE); i >= 0 && i < bytes.length - 1; i = bytes.indexOf(UNDERSCORE, i + 1)) {
    if (bytes[i + 1] === COLON) return true;
  }
  return false;
}
