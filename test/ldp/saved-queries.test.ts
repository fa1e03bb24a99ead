// Saved queries of sparql/: the comment header gives title and (multi-line) description; every file is a valid query.
import { describe, expect, it } from 'vitest';
import sparqljs from 'sparqljs';
import { parseSavedQuery, SavedQueries } from '../../hub/ldp/saved-queries.ts';

describe('saved queries', () => {
  it('reads title and a description continued over comment lines', () => {
    const q = parseSavedQuery('x.rq', '# title: Averages\n# description: Mean per sensor,\n#   with counts.\nSELECT * WHERE { ?s ?p ?o }\n# not header');
    expect(q).toMatchObject({ name: 'x.rq', title: 'Averages', description: 'Mean per sensor, with counts.' });
  });

  it('falls back to the file name without a header', () => {
    expect(parseSavedQuery('y.rq', 'ASK {}').title).toBe('y.rq');
  });

  it('every sparql/*.rq file has a title and parses as SPARQL', () => {
    const saved = new SavedQueries();
    expect(saved.names().length).toBeGreaterThanOrEqual(4);
    for (const name of saved.names()) {
      const q = saved.get(name)!;
      expect(q.title, name).not.toBe(name);
      expect(() => new sparqljs.Parser().parse(q.text), name).not.toThrow();
    }
    expect(saved.get('../package.json')).toBeUndefined();
  });
});
