import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanStoreDir } from '../../hub/store/embedded/store-files.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('scanStoreDir', () => {
  it('removes the .tmp file of a snapshot interrupted by a kill and opens on (it once failed with ENOENT)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-files-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'log-000000000003.wal'), '');
    writeFileSync(join(dir, 'snapshot-000000000002.nq'), '');
    writeFileSync(join(dir, 'snapshot-000000000004.nq.tmp'), '<urn:a> <urn:b> <urn:c> .\n');
    writeFileSync(join(dir, 'LOCK'), '');
    const files = await scanStoreDir(dir);
    expect(files).toEqual({ segments: [3], snapshots: [2] });
    expect(existsSync(join(dir, 'snapshot-000000000004.nq.tmp'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['LOCK', 'log-000000000003.wal', 'snapshot-000000000002.nq']);
  });
});
