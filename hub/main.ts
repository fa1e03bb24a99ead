// Entry point: load configuration, create the hub, listen, and shut down cleanly on SIGINT/SIGTERM.
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createHub } from './hub.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hub: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const hub = await createHub(config);
  if (hub.adminTokenFile) process.stdout.write(`hub: admin token is in ${hub.adminTokenFile}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    hub.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    hub.stop().then(
      () => process.exit(0),
      (e) => {
        hub.app.log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await hub.start();
  const addr = hub.app.server.address();
  const url = addr && typeof addr === 'object' ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : config.baseUrl;
  process.stdout.write(`hub: listening on ${url} (SPARQL at ${url}/sparql)\n`);
}

main().catch((e) => {
  process.stderr.write(`hub: failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
