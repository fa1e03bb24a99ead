// Worker thread: builds the aggregates from the store's files (file-build.ts) and posts the result back once.
import { parentPort, workerData } from 'node:worker_threads';
import { buildFromFiles } from './file-build.ts';

const result = buildFromFiles((workerData as { dir: string }).dir);
const transfer = result.kind === 'built' && result.bytes.byteOffset === 0 && result.bytes.byteLength === result.bytes.buffer.byteLength ? [result.bytes.buffer as ArrayBuffer] : [];
parentPort!.postMessage(result, transfer);
