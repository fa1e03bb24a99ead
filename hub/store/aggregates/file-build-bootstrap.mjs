// Worker entry when the bundle cannot be built (see hub/store/embedded/worker-entry.ts): loads the TypeScript through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./file-build-worker.ts');
