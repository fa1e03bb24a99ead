// Worker entry: lets a worker thread load the TypeScript store worker whether the parent runs under
// `node --import tsx` (hub, benchmarks, fixtures) or under vitest (which does not extend its transform to workers).
import { register } from 'tsx/esm/api';

register();
await import('./store-worker.ts');
