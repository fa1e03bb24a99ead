// The fuzz oracle engine: Oxigraph in a 16 MB worker, called synchronously, replaced after a trap (engine-oracle.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { EngineOracle } from './engine-oracle.ts';
import { OracleError } from './target.ts';

const DATA = '<urn:ex:s> <urn:ex:p> "1" .\n';

describe('EngineOracle', () => {
  const oracle = new EngineOracle(DATA, 5_000);
  afterAll(() => oracle.close());

  it('runs queries and updates, and refuses bad text with a typed error', () => {
    expect(() => oracle.run('query', 'SELECT * { ?s ?p ?o }')).not.toThrow();
    expect(() => oracle.run('update', 'INSERT DATA { <urn:a> <urn:b> <urn:c> }')).not.toThrow();
    expect(() => oracle.run('query', 'SELECT * {')).toThrow(expect.objectContaining({ status: 400, code: 'engine-rejected' }));
  });

  // A fresh worker loads Oxigraph's WASM: seconds on a loaded 2-core machine (seen: over the 10 s default under load 20).
  it('reports a trap as an oracle failure once and answers the next inputs from a fresh worker', { timeout: 60_000 }, () => {
    // 5,000 nested quoted triples trap the update parser in a 16 MB worker too (the guard refuses them before the store).
    expect(() => oracle.run('update', `INSERT DATA { <urn:s> <urn:p> ${'<<'.repeat(5000)} }`)).toThrow(OracleError);
    expect(oracle.traps).toBe(1);
    expect(oracle.restarts).toBe(1);
    for (let k = 0; k < 20; k++) expect(() => oracle.run('query', 'SELECT * { ?s ?p ?o }')).not.toThrow();
  });

  it('runs in its worker what overflows the main thread (as the store worker does): 1,500 chained + evaluated on data', () => {
    // In the fuzz child's main thread this is a RangeError (Maximum call stack size exceeded): a crash the hub cannot have.
    expect(() => oracle.run('query', `SELECT * WHERE { ?s ?p ?o FILTER(?o${' + 1'.repeat(1500)} > 0) }`)).not.toThrow();
    expect(oracle.traps).toBe(1);
  });
});
