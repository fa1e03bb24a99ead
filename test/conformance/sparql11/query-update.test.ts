// W3C SPARQL 1.1 query, update, syntax and result-format suites, run through hub/sparql/execute.ts on a MemoryQuadStore.
import { afterAll, describe, expect, it } from 'vitest';
import { loadTests, SUITE_DIR, type ManifestTest } from './manifest.ts';
import { runTest } from './runner.ts';
import { KNOWN_FAILURES } from './known-failures.ts';

// Not run: entailment/ (regimes other than simple entailment) and service/ (SERVICE evaluation needs remote
// endpoints); protocol/, graph-store-protocol/ and service-description/ run over HTTP in protocol.test.ts.
const SUITES = [
  'manifest-sparql11-query.ttl',
  'manifest-sparql11-update.ttl',
  'manifest-sparql11-results.ttl',
  'syntax-fed/manifest.ttl',
];
const seen = new Set<string>();

for (const manifest of SUITES) {
  const tests: ManifestTest[] = loadTests(`${SUITE_DIR}/${manifest}`);
  const counts = { passed: 0, failed: 0, known: 0, skipped: 0 };
  describe(manifest, () => {
    afterAll(() => {
      console.log(
        `[sparql11] ${manifest}: ${counts.passed} passed, ${counts.known} known failures, ${counts.failed} unexpected failures, ${counts.skipped} skipped (of ${tests.length})`,
      );
    });
    for (const t of tests) {
      seen.add(t.id);
      it(`${t.id} (${t.type}) ${t.name}`, async () => {
        const outcome = await runTest(t);
        if (!outcome) {
          counts.skipped++;
          return;
        }
        const known = KNOWN_FAILURES[t.id];
        if (known) {
          if (!outcome.ok) counts.known++;
          else counts.passed++;
          expect(outcome.ok, `${t.id} now passes: remove it from KNOWN_FAILURES (${known})`).toBe(false);
          return;
        }
        if (outcome.ok) counts.passed++;
        else counts.failed++;
        expect(outcome.reason ?? '', t.id).toBe('');
        expect(outcome.ok).toBe(true);
      });
    }
  });
}

describe('KNOWN_FAILURES', () => {
  it('names only tests that exist', () => {
    const protocolIds = Object.keys(KNOWN_FAILURES).filter((id) => id.startsWith('protocol/') || id.startsWith('graph-store-protocol/'));
    const stale = Object.keys(KNOWN_FAILURES).filter((id) => !seen.has(id) && !protocolIds.includes(id));
    expect(stale).toEqual([]);
  });
});
