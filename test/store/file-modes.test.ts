// The hub's data files are the owner's only: store log, snapshots and LOCK, TD files, mapfiles, LDP non-RDF bodies
// 0600 and their directories 0700 (like admin.token), also when an older hub left them 0644/0755.
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { sampleTd, thingUrl } from '../directory/fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAPFILE = readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8');
const DIRS = ['store', 'directory', 'mappings', 'ldp-nr'];

/** Every file and directory below the data directory's data folders, with its permission bits. */
function modes(dataDir: string): Array<[string, number, boolean]> {
  const out: Array<[string, number, boolean]> = [];
  const walk = (dir: string) => {
    const st = statSync(dir);
    out.push([dir, st.mode & 0o777, true]);
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push([p, statSync(p).mode & 0o777, false]);
    }
  };
  for (const d of DIRS) walk(join(dataDir, d));
  return out;
}

async function writeEverything(hub: TestHub): Promise<void> {
  const auth = { authorization: hub.bearer };
  // Enough data for the log to pass snapshotLogBytes (1 KiB) and a snapshot to be taken.
  for (let i = 0; i < 8; i++) {
    const triples = Array.from({ length: 20 }, (_, j) => `<urn:ex:s${i}-${j}> <urn:ex:p> "${'x'.repeat(40)}" .`).join('\n');
    const r = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { ...auth, 'content-type': 'application/sparql-update' }, payload: `INSERT DATA { ${triples} }` });
    expect(r.statusCode).toBe(204);
  }
  expect((await hub.app.inject({ method: 'PUT', url: thingUrl('urn:ex:lamp'), headers: { ...auth, 'content-type': 'application/td+json' }, payload: JSON.stringify(sampleTd('urn:ex:lamp')) })).statusCode).toBe(201);
  expect((await hub.app.inject({ method: 'PUT', url: '/mappings/uplink', headers: { ...auth, 'content-type': 'text/turtle' }, payload: MAPFILE })).statusCode).toBe(201);
  expect((await hub.app.inject({ method: 'PUT', url: '/ldp/blob.bin', headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from([1, 2, 3]) })).statusCode).toBe(201);
}

async function waitForSnapshot(dataDir: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!readdirSync(join(dataDir, 'store')).some((f) => /^snapshot-\d+\.nq$/.test(f))) {
    if (Date.now() > deadline) throw new Error('no snapshot was written within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectPrivate(dataDir: string): void {
  const all = modes(dataDir);
  const names = all.map(([p]) => p.slice(dataDir.length + 1));
  for (const want of [/^store\/log-\d+\.wal$/, /^store\/snapshot-\d+\.nq$/, /^store\/LOCK$/, /^directory\/[0-9a-f]+\.json$/, /^mappings\/uplink\.ttl$/, /^mappings\/uplink\.ttl\.type$/, /^ldp-nr\/[0-9a-f]+$/]) {
    expect(names.some((n) => want.test(n)), `a file matching ${want}`).toBe(true);
  }
  expect(statSync(dataDir).mode & 0o777, 'the data directory itself').toBe(0o700);
  const wrong = all.filter(([, mode, isDir]) => mode !== (isDir ? 0o700 : 0o600)).map(([p, mode]) => `${p} ${mode.toString(8)}`);
  expect(wrong).toEqual([]);
}

describe('file modes of the data directory', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.stop();
    hub = undefined;
  });

  it('writes the store log, snapshots, LOCK, TD files, mapfiles and LDP bodies 0600 in 0700 directories', async () => {
    hub = await startTestHub({ store: { snapshotLogBytes: 1024 } });
    await writeEverything(hub);
    await waitForSnapshot(hub.dataDir);
    expectPrivate(hub.dataDir);
  });

  it('narrows files and directories an older hub left 0644 / 0755 when it opens them', async () => {
    hub = await startTestHub({ store: { snapshotLogBytes: 1024 } }, { keepDataDir: true });
    const dataDir = hub.dataDir;
    await writeEverything(hub);
    await waitForSnapshot(dataDir);
    await hub.stop();
    hub = undefined;
    for (const [p, , isDir] of modes(dataDir)) chmodSync(p, isDir ? 0o755 : 0o644);
    chmodSync(dataDir, 0o755);
    expect(modes(dataDir).every(([, mode]) => mode === 0o644 || mode === 0o755)).toBe(true);
    hub = await startTestHub({ store: { snapshotLogBytes: 1024 } }, { dataDir });
    expect(((await hub.directory.get('urn:ex:lamp')) as { title: string }).title).toBe('Lamp');
    expectPrivate(dataDir);
    const stop = hub.stop.bind(hub);
    hub.stop = async () => {
      await stop();
      const { rmSync } = await import('node:fs');
      rmSync(dataDir, { recursive: true, force: true });
    };
  });
});
