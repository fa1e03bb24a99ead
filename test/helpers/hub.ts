// Test helper: a hub on a temporary data directory, loopback, ephemeral ports, silent logs; stop() removes the directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type HubConfig } from '../../hub/config.ts';
import { createHub, type Hub } from '../../hub/hub.ts';
import type { QuadStore } from '../../hub/store/quad-store.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestHub extends Hub {
  dataDir: string;
  /** Authorization header value of the admin token. */
  bearer: string;
}

export async function startTestHub(
  overrides: Record<string, unknown> = {},
  options: { listen?: boolean; store?: QuadStore; dataDir?: string; keepDataDir?: boolean } = {},
): Promise<TestHub> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'hub-test-'));
  const config: HubConfig = validateConfig({
    host: '127.0.0.1',
    httpPort: 0,
    coapPort: 0,
    dataDir,
    adminToken: TEST_ADMIN_TOKEN,
    logLevel: 'silent',
    ...overrides,
  });
  const hub = await createHub(config, { logger: false, store: options.store });
  if (options.listen) await hub.start();
  const stop = hub.stop.bind(hub);
  return Object.assign(hub, {
    dataDir,
    bearer: `Bearer ${TEST_ADMIN_TOKEN}`,
    async stop() {
      await stop();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Base URL of a listening test hub. */
export function baseUrlOf(hub: Hub): string {
  const addr = hub.app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('hub is not listening');
  return `http://127.0.0.1:${addr.port}`;
}
