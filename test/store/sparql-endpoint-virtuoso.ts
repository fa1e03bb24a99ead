// Test helper: runs Debian's Virtuoso (virtuoso-opensource) in the foreground on a temp dir and loopback ports.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/hub.ts';

export interface VirtuosoServer {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** Public query endpoint (/sparql) and the digest-authenticated endpoints usable with dba/dba. */
  queryEndpoint: string;
  updateEndpoint: string;
  graphStoreEndpoint: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/** Why Virtuoso cannot run here, or undefined when `virtuoso-t` is on the PATH. */
export function virtuosoMissing(): string | undefined {
  const r = spawnSync('virtuoso-t', ['-?'], { stdio: 'ignore', timeout: 10_000 });
  if (r.error) return 'virtuoso-t is not installed (apt-get install -y virtuoso-opensource; .ci/run installs it)';
  return undefined;
}

function ini(dir: string, sqlPort: number, httpPort: number): string {
  return `[Database]
DatabaseFile = ${dir}/virtuoso.db
ErrorLogFile = ${dir}/virtuoso.log
LockFile = ${dir}/virtuoso.lck
TransactionFile = ${dir}/virtuoso.trx
xa_persistent_file = ${dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = ${dir}/virtuoso-temp.db
TransactionFile = ${dir}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:${sqlPort}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., ${dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:${httpPort}
ServerRoot = ${dir}
ServerThreads = 10
MaxClientConnections = 10
Charset = UTF-8
EnabledDavVSP = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 400
`;
}

async function waitUntilAnswering(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`virtuoso-t exited with code ${child.exitCode} while starting`);
    try {
      const res = await fetch(`${url}/sparql?query=${encodeURIComponent('ASK {}')}`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Virtuoso did not answer on ${url}/sparql within ${deadlineMs} ms`);
}

/** Starts a fresh Virtuoso; the first start creates the database (a few seconds). */
export async function startVirtuoso(startTimeoutMs = 60_000): Promise<VirtuosoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'virtuoso-test-'));
  const [sqlPort, httpPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'virtuoso.ini'), ini(dir, sqlPort, httpPort));
  const child = spawn('virtuoso-t', ['+foreground', '+configfile', join(dir, 'virtuoso.ini')], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(baseUrl, child, startTimeoutMs);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    baseUrl,
    queryEndpoint: `${baseUrl}/sparql`,
    updateEndpoint: `${baseUrl}/sparql-auth`,
    graphStoreEndpoint: `${baseUrl}/sparql-graph-crud-auth`,
    user: 'dba',
    password: 'dba',
    stop,
  };
}
