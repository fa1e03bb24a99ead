// Fuzz worker process: runs one target over an index range, records the current input in a file before each run so
// that the parent can name the input that killed or froze this process.
import { closeSync, openSync, writeSync } from 'node:fs';
import { TARGETS } from './targets/index.ts';
import { ReproSaver } from './repro.ts';
import { runRange, type Counts, type Finding } from './runner.ts';

export interface UnitRequest {
  target: string;
  seed: number;
  from: number;
  to: number;
  hangMs: number;
  /** File the child writes `[u32 index][u32 length][input]` to before each input. */
  currentFile: string;
  reproDir: string;
  /** Epoch ms after which no further input starts (the run's time budget)... */
  stopAt?: number;
  /** ...once this many inputs of the unit have run. */
  minInputs?: number;
}

export type ChildMessage =
  | { type: 'ready'; seeds: number }
  | { type: 'progress'; counts: Counts; next: number }
  | { type: 'finding'; finding: Finding }
  | { type: 'done'; counts: Counts; next: number }
  | { type: 'error'; message: string };

const send = (m: ChildMessage) => process.send!(m);

// One child serves units one after the other (module loading is most of a child's start-up); it exits when the
// parent disconnects, or is killed by the parent's watchdog.
let queue = Promise.resolve();
process.on('message', (req: UnitRequest) => {
  queue = queue.then(() =>
    main(req).catch((e) => {
      send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }),
  );
});
process.on('disconnect', () => process.exit(0));

const prepared = new Set<string>();
const seedCache = new Map<string, Uint8Array[]>();
let current: { index: number; input: Uint8Array; target: string; seed: number; saver?: ReproSaver } = { index: -1, input: new Uint8Array(), target: '', seed: 0 };
// A parser that fails later, outside its call (a stray promise, a timer), is charged to the input running then.
const late = (e: unknown) => {
  const f: Finding = { target: current.target, kind: 'crash', seed: current.seed, index: current.index, message: `asynchronous failure: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.slice(0, 500) };
  send({ type: 'finding', finding: { ...f, file: current.saver?.save(f, current.input) } });
};
process.on('uncaughtException', late);
process.on('unhandledRejection', late);

async function main(req: UnitRequest): Promise<void> {
  const target = TARGETS.find((t) => t.name === req.target);
  if (!target) throw new Error(`unknown target ${req.target}`);
  const firstUse = !prepared.has(target.name);
  if (firstUse) {
    await target.setup?.();
    seedCache.set(target.name, await target.seeds());
    prepared.add(target.name);
  }
  const seeds = seedCache.get(target.name)!;
  send({ type: 'ready', seeds: seeds.length });
  const fd = openSync(req.currentFile, 'w');
  const header = Buffer.alloc(8);
  const saver = new ReproSaver(req.reproDir);
  const report = (f: Finding, input: Uint8Array) => send({ type: 'finding', finding: { ...f, file: saver.save(f, input) } });
  try {
    const { counts, next } = await runRange(target, seeds, req.from, req.to, {
      seed: req.seed,
      stopAt: req.stopAt,
      minInputs: req.minInputs,
      warmUp: firstUse,
      hangMs: req.hangMs,
      beforeEach(index, input) {
        current = { index, input, target: target.name, seed: req.seed, saver };
        header.writeUInt32LE(index >>> 0, 0);
        header.writeUInt32LE(input.length, 4);
        writeSync(fd, header, 0, 8, 0);
        if (input.length) writeSync(fd, input, 0, input.length, 8);
      },
      onFinding: report,
      onProgress: (c, n) => send({ type: 'progress', counts: c, next: n }),
    });
    // Let late failures of the last inputs surface before reporting.
    await new Promise((r) => setTimeout(r, 20));
    send({ type: 'done', counts, next });
  } finally {
    closeSync(fd);
  }
}
