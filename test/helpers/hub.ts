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
  // A listening hub gets a concrete free port up front so that baseUrl (IRIs, Location headers, TD forms) is right.
  const httpPort = options.listen ? await freePort() : 0;
  const config: HubConfig = validateConfig({
    host: '127.0.0.1',
    httpPort,
    coapPort: 0,
    mqttPort: 0,
    packetForwarderPort: 0,
    oscPort: 0,
    dataDir,
    adminToken: TEST_ADMIN_TOKEN,
    logLevel: 'silent',
    ...overrides,
    // No standby store worker unless a test asks for one: a third Oxigraph per test hub only costs the suite CPU.
    // Store workers at the hub's priority (the default niceness is 10): the suite's test files run in parallel processes
    // at nice 0 on two cores, and niced engines would wait behind the other files' work (test/store/worker-nice.test.ts
    // checks the niceness itself).
    store: { standby: 0, workerNice: 0, ...(overrides.store as Record<string, unknown> | undefined) },
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

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Base URL of a listening test hub. */
export function baseUrlOf(hub: Hub): string {
  const addr = hub.app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('hub is not listening');
  return `http://127.0.0.1:${addr.port}`;
}
