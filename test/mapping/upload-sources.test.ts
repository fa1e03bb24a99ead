// An uploaded mapfile never reads the hub's disk: every kind of file source is refused at upload, before anything runs.
import { afterEach, describe, expect, it } from 'vitest';
import { compileUploadSync } from '../../hub/mapping/parse-bounded.ts';
import { MappingRegistry } from '../../hub/mapping/registry.ts';
import { MemoryMappingRepository } from '../../hub/mapping/repository.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const tm = (source: string, rf = 'rml:referenceFormulation rml:JSONPath ; rml:iterator "$[*]"') => `@prefix rml: <http://w3id.org/rml/> .
@prefix csvw: <http://www.w3.org/ns/csvw#> .
<http://ex/tm> a rml:TriplesMap ; rml:logicalSource [ ${source} ; ${rf} ] ;
  rml:subjectMap [ rml:template "http://ex/{$.a}" ] ; rml:predicateObjectMap [ rml:predicate <http://ex/p> ; rml:objectMap [ rml:reference "$.b" ] ] .`;

const FILE_SOURCES: Record<string, string> = {
  'a literal path': tm('rml:source "/etc/passwd"'),
  'a relative path source': tm('rml:source [ a rml:RelativePathSource ; rml:root rml:MappingDirectory ; rml:path "../../admin.token" ]'),
  'the working directory': tm('rml:source [ a rml:RelativePathSource ; rml:root rml:CurrentWorkingDirectory ; rml:path "data/admin.token" ]'),
  'a compressed source': tm('rml:source [ a rml:RelativePathSource ; rml:path "x.json.gz" ; rml:compression rml:gzip ]'),
  'a CSVW table': tm('rml:source [ a csvw:Table ; csvw:url "file:///etc/passwd" ]', 'rml:referenceFormulation rml:CSV'),
  'an XML file': tm('rml:source "/etc/hosts.xml"', 'rml:referenceFormulation rml:XPath ; rml:iterator "/*"'),
};

describe('file sources in uploaded mapfiles', () => {
  it.each(Object.entries(FILE_SOURCES))('refuses %s at validation', async (_what, text) => {
    const registry = new MappingRegistry(new MemoryMappingRepository());
    await expect(registry.validate(text, 'turtle')).rejects.toMatchObject({ name: 'MappingError', code: 'invalid-mapping', message: expect.stringMatching(/is a file; hub mapfiles read rml:source hub:CurrentMessage/) });
    expect(() => compileUploadSync(text, 'turtle')).toThrow(/is a file/);
  });

  it('refuses XPath on hub:CurrentMessage (the message is JSON)', () => {
    expect(() => compileUploadSync(tm('rml:source <https://w3id.org/wot-hub#CurrentMessage>', 'rml:referenceFormulation rml:XPath'), 'turtle')).toThrow(/read it with rml:JSONPath/);
  });

  describe('over HTTP', () => {
    let hub: TestHub;
    afterEach(() => hub?.stop());

    it('answers 422 and stores nothing', async () => {
      hub = await startTestHub();
      const res = await hub.app.inject({ method: 'PUT', url: '/mappings/sneaky', headers: { 'content-type': 'text/turtle', authorization: hub.bearer }, payload: FILE_SOURCES['a relative path source'] });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'invalid-mapping' });
      expect(JSON.stringify(res.json())).not.toContain(hub.dataDir);
      expect((await hub.app.inject({ method: 'GET', url: '/mappings/sneaky', headers: { authorization: hub.bearer } })).statusCode).toBe(404);
    });
  });
});
