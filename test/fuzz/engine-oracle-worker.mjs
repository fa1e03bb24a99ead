// Fuzz oracle worker (see engine-oracle.ts): runs queries and updates on a small Oxigraph store and answers each
// request on its port, then raises the shared flag the fuzz child waits on. Plain JavaScript that registers tsx, as the
// store's worker-bootstrap.mjs does, so that it loads the hub's OxigraphEngine whoever started the process.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { OxigraphEngine } = await import('../../hub/store/oxigraph-engine.ts');
const { port, flag, data } = workerData;

const fresh = () => {
  const e = new OxigraphEngine();
  e.load(data);
  return e;
};
let engine = fresh();

/** A WASM trap or a stack overflow: the engine instance is unusable afterwards (the host replaces this worker). */
const isTrap = (e) => e instanceof WebAssembly.RuntimeError || e instanceof RangeError || (e instanceof Error && /unreachable|out of bounds|call stack/i.test(e.message));

const answer = (reply) => {
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};

port.on('message', (req) => {
  try {
    if (req.op === 'reset') engine = fresh();
    else if (req.op === 'query') engine.query(req.text);
    else engine.update(req.text);
    answer({ kind: 'ok' });
  } catch (e) {
    const name = e instanceof Error ? e.name : 'Error';
    const message = String(e instanceof Error ? e.message : e).slice(0, 300);
    answer(isTrap(e) ? { kind: 'trap', name, message } : { kind: 'rejected', message });
  }
});
answer({ kind: 'ready' });
