// Fuzz oracle engine: Oxigraph in a worker thread with the store worker's 16 MB stack, called synchronously, and
// replaced after a trap, so that the fuzz run sees what the hub's store would, and one trap does not break later inputs.
//
// Why a worker: the hub never runs Oxigraph for client SPARQL on its event loop but in the store worker
// (hub/store/embedded/worker-host.ts, stackSizeMb 16). In the fuzz child's main thread (about 1 MB of native stack) the
// engine overflowed on texts the store worker runs fine, which the fuzz run reported as crashes the hub cannot have.
// Why synchronous (Atomics.wait on a shared flag + receiveMessageOnPort): oracle checks are plain functions called after
// the timing stops (FuzzTarget.run); blocking the fuzz child while the worker works keeps the runner unchanged.
// Why replaced: a WASM trap ("memory access out of bounds") leaves the instance broken for good; the earlier in-process
// oracle then failed every later input (27,233 cascaded "crashes" from one trap in one run). The store worker is
// replaced the same way (WorkerHost.onCrash).
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { HubError } from '../../hub/errors.ts';
import { OracleError } from './target.ts';

export type OracleRequest = { op: 'query' | 'update'; text: string } | { op: 'reset' };
export type OracleReply =
  | { kind: 'ok' }
  /** The engine refused the text (syntax, evaluation error): the store's typed rejection. */
  | { kind: 'rejected'; message: string }
  /** A WASM trap or stack overflow: the store worker would die with it. */
  | { kind: 'trap'; name: string; message: string }
  | { kind: 'ready' };

const ENTRY = new URL('./engine-oracle-worker.mjs', import.meta.url);
/** Longer than any text the plannable() filter lets through needs; the hub bounds it by its query timeout (503). */
const DEFAULT_TIMEOUT_MS = 2_000;
const START_TIMEOUT_MS = 60_000;

export class OracleTimeoutError extends HubError {
  override name = 'OracleTimeoutError';
  constructor(ms: number) {
    super(503, 'query-timeout', `The engine did not answer within ${ms} ms (the hub's query timeout answers 503 there)`);
  }
}

export class EngineOracle {
  private worker!: Worker;
  private port!: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  /** Workers replaced after a trap or a timeout (for the report). */
  restarts = 0;
  traps = 0;
  timeouts = 0;

  constructor(private readonly data: string, private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.spawn();
  }

  private spawn(): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    Atomics.store(this.flag, 0, 0);
    // The same stack as the store worker; execArgv []: the entry registers tsx itself (as worker-bootstrap.mjs does).
    this.worker = new Worker(ENTRY, { execArgv: [], resourceLimits: { stackSizeMb: 16 }, workerData: { port: port2, flag: this.flag, data: this.data }, transferList: [port2] });
    this.worker.unref();
    this.worker.on('error', () => {}); // a dead worker shows as a timeout below, then is replaced
    const ready = this.wait(START_TIMEOUT_MS);
    if (ready?.kind !== 'ready') throw new Error('the oracle engine worker did not start');
  }

  /** Blocks until the worker's next reply (or `ms` pass: undefined). */
  private wait(ms: number): OracleReply | undefined {
    const r = Atomics.wait(this.flag, 0, 0, ms);
    Atomics.store(this.flag, 0, 0);
    if (r === 'timed-out') return undefined;
    return receiveMessageOnPort(this.port)?.message as OracleReply | undefined;
  }

  private replace(): void {
    this.restarts++;
    void this.worker.terminate();
    this.port.close();
    this.spawn();
  }

  private call(req: OracleRequest): OracleReply | undefined {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    const reply = this.wait(this.timeoutMs);
    if (!reply) {
      this.timeouts++;
      this.replace();
    }
    return reply;
  }

  /**
   * Runs a text that passed the guard. A trap is an OracleError (the guard let through a text that kills the store
   * worker) and the worker is replaced; a refusal is a typed error, as the store's; a timeout is the hub's 503.
   */
  run(op: 'query' | 'update', text: string): void {
    const reply = this.call({ op, text });
    if (!reply) throw new OracleTimeoutError(this.timeoutMs);
    if (reply.kind === 'trap') {
      this.traps++;
      this.replace();
      throw new OracleError(`the guard let through a text that crashed the engine (16 MB worker): ${reply.name}: ${reply.message}`);
    }
    if (reply.kind === 'rejected') throw new HubError(400, 'engine-rejected', reply.message);
  }

  /** Reloads the small data set (updates accumulate). */
  reset(): void {
    this.call({ op: 'reset' });
  }

  close(): void {
    void this.worker.terminate();
    this.port.close();
  }
}
