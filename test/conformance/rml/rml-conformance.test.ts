// RML test cases (RML-Core and legacy, JSON and CSV) run through the CLI's mapFile: isomorphic output or the expected error.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Parser } from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { describe, expect, it } from 'vitest';
import { mapFile } from '../../../hub/mapping/cli.ts';
import { loadSuite, runCase } from './rml-cases.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

describe.each(['core', 'legacy'] as const)('RML %s test cases', (suite) => {
  const cases = loadSuite(suite);

  it('has the cases', () => {
    expect(cases.length).toBeGreaterThan(50);
  });

  it.each(cases.filter((c) => !c.dataError).map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    expect(await runCase(c)).toEqual({ ok: true });
  });

  // R2RML-derived cases "with data error" expect the terms that make no valid IRI to be skipped: the engine fails by
  // default (MappingError invalid-iri) and produces exactly the expected output when told to skip data errors.
  it.each(cases.filter((c) => c.dataError).map((c) => [c.id, c] as const))('%s (data error: fails, or skips on request)', async (_id, c) => {
    await expect(mapFile(join(c.dir, 'mapping.ttl'), { base: c.base })).rejects.toMatchObject({ name: 'MappingError', code: 'invalid-iri' });
    expect(await runCase(c, 'skip')).toEqual({ ok: true });
  });
});

describe('npm run map (the CLI)', () => {
  const core = loadSuite('core');

  it('writes N-Quads to --output and exits 0', () => {
    const c = core.find((x) => x.id === 'RMLTC0009b-JSON')!;
    const dir = mkdtempSync(join(tmpdir(), 'rml-cli-'));
    try {
      const out = join(dir, 'out.nq');
      execFileSync(process.execPath, ['--import', 'tsx', 'hub/mapping/cli.ts', join(c.dir, 'mapping.ttl'), '--base', c.base!, '--output', out], { cwd: ROOT, timeout: 20_000 });
      const got = new Parser({ format: 'application/n-quads' }).parse(readFileSync(out, 'utf8')) as Quad[];
      const want = new Parser({ format: 'application/n-quads' }).parse(readFileSync(join(c.dir, 'output.nq'), 'utf8')) as Quad[];
      expect(got.length).toBeGreaterThan(0);
      expect(isomorphic(got, want)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with the typed error', () => {
    const c = core.find((x) => x.id === 'RMLTC0004b-JSON')!;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'hub/mapping/cli.ts', join(c.dir, 'mapping.ttl')], { cwd: ROOT, timeout: 20_000, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/MappingError \[invalid-mapping\]: A subject map cannot generate literals/);
  });
});
