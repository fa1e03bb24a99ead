// writeFileDurably / removeFileDurably: writes to one path run in call order (the last content wins), leave no
// temporary file, fail without leaving one, and a removal queued behind a write is not undone by that write's rename.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeFileDurably, writeFileDurably } from '../hub/durable-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'durable-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileDurably', () => {
  it('keeps the last of many concurrent writes to one path, with its mode, and no temporary file', async () => {
    const path = join(dir, 'a.json');
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFileDurably(path, JSON.stringify({ i }), 0o600)));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ i: 49 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a removal queued behind writes wins over them; a write after it brings the file back', async () => {
    const path = join(dir, 'b.json');
    const writes = [writeFileDurably(path, 'one'), writeFileDurably(path, 'two')];
    const removed = removeFileDurably(path);
    await Promise.all([...writes, removed]);
    expect(readdirSync(dir)).not.toContain('b.json');
    await writeFileDurably(path, 'three');
    expect(readFileSync(path, 'utf8')).toBe('three');
  });

  it('a write that cannot be made rejects, leaves no temporary file, and does not stop later writes to the path', async () => {
    const missing = join(dir, 'no-such-dir', 'c.json');
    await expect(writeFileDurably(missing, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    // A non-empty directory where the file goes: the rename fails; the next write to the path runs after it.
    const path = join(dir, 'c.json');
    mkdirSync(join(path, 'inside'), { recursive: true });
    const failing = writeFileDurably(path, 'x');
    const cleared = failing.catch(() => rmSync(path, { recursive: true }));
    const ok = writeFileDurably(path, 'fine');
    await expect(failing).rejects.toBeDefined();
    await cleared;
    await ok;
    expect(readFileSync(path, 'utf8')).toBe('fine');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
