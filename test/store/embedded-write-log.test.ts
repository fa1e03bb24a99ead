// WriteLog: group commit never loses an append, whatever moment it arrives (during a write, during the last sync).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordType, encodeJson, readRecords } from '../../hub/store/embedded/log-format.ts';
import { segmentPath } from '../../hub/store/embedded/store-files.ts';
import { WriteLog } from '../../hub/store/embedded/write-log.ts';

describe('WriteLog', () => {
  it('settles every append made at any point of the write/sync cycle, in order, and rotates segments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'write-log-'));
    const sealed: number[] = [];
    const log = new WriteLog({ dir, seq: 1, rotateBytes: 4096, onSealed: (s) => sealed.push(s) });
    await log.open();
    try {
      const acks: Array<Promise<void>> = [];
      for (let i = 0; i < 400; i++) {
        acks.push(log.append(encodeJson(RecordType.Update, { sparql: `# ${i}` })));
        // vary the moment of the next append: same tick, next microtask, next macrotask, after a sync
        if (i % 5 === 1) await Promise.resolve();
        else if (i % 5 === 2) await new Promise((r) => setImmediate(r));
        else if (i % 5 === 3) await acks[i];
        else if (i % 5 === 4) await new Promise((r) => setTimeout(r, 1)); // the write is done, its sync still running
      }
      const all = Promise.all(acks);
      const outcome = await Promise.race([all.then(() => 'settled'), new Promise((r) => setTimeout(() => r('stuck'), 20_000))]);
      expect(outcome).toBe('settled');
      expect(sealed.length).toBeGreaterThan(0);
      const seen: string[] = [];
      for (const seq of [...sealed, log.seq]) {
        readRecords(readFileSync(segmentPath(dir, seq)), (r) => seen.push(JSON.parse(r.payload.toString()).sparql));
      }
      expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => `# ${i}`));
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
