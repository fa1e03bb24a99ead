// ontologies/hub.ttl defines every hub: term the shipped mapfiles (mappings/*.ttl) use: a label and a comment, and
// for the properties they write a domain and a range (the vocabulary is parsed with n3, not searched as text).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, type Quad } from 'n3';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const HUB = 'https://w3id.org/wot-hub#';
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#';
const RML = 'http://w3id.org/rml/';
const parse = (file: string): Quad[] => new Parser({ baseIRI: 'http://hub.example/' }).parse(readFileSync(file, 'utf8'));

const vocabulary = parse(join(ROOT, 'ontologies/hub.ttl'));
const about = (iri: string, predicate: string) => vocabulary.filter((q) => q.subject.value === iri && q.predicate.value === predicate).map((q) => q.object.value);
const mapfiles = readdirSync(join(ROOT, 'mappings')).filter((f) => f.endsWith('.ttl'));

describe('the hub vocabulary covers the shipped mapfiles', () => {
  it('there are mapfiles to check', () => {
    expect(mapfiles).toEqual(expect.arrayContaining(['lorawan-cayenne.ttl', 'lorawan-uplink.ttl', 'sigfox-callback.ttl', 'schc-senml.ttl']));
  });

  for (const file of mapfiles) {
    it(`${file}: every hub: term is defined with a label and a comment`, () => {
      const quads = parse(join(ROOT, 'mappings', file));
      const terms = new Set(quads.flatMap((q) => [q.subject, q.predicate, q.object]).filter((t) => t.termType === 'NamedNode' && t.value.startsWith(HUB)).map((t) => t.value));
      expect(terms.size).toBeGreaterThan(0);
      for (const term of terms) {
        expect(about(term, `${RDFS}label`), `${term} has no rdfs:label`).not.toEqual([]);
        // FnO parameters are self-describing by their label; everything else says what it means.
        if (!about(term, 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type').includes('https://w3id.org/function/ontology#Parameter')) {
          expect(about(term, `${RDFS}comment`), `${term} has no rdfs:comment`).not.toEqual([]);
        }
      }
      // Properties the mapfile writes (rml:predicate hub:x) have a domain and a range; classes it assigns are classes.
      const predicates = quads.filter((q) => q.predicate.value === `${RML}predicate` && q.object.value.startsWith(HUB)).map((q) => q.object.value);
      for (const p of new Set(predicates)) {
        expect(about(p, `${RDFS}domain`), `${p} has no rdfs:domain`).toHaveLength(1);
        expect(about(p, `${RDFS}range`), `${p} has no rdfs:range`).toHaveLength(1);
      }
      const classes = quads.filter((q) => q.predicate.value === `${RML}class` && q.object.value.startsWith(HUB)).map((q) => q.object.value);
      for (const c of new Set(classes)) expect(about(c, 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type')).toContain('http://www.w3.org/2002/07/owl#Class');
    });
  }

  it('a radio link is a SOSA feature of interest joining a device and a gateway', () => {
    expect(about(`${HUB}RadioLink`, `${RDFS}subClassOf`)).toEqual(['http://www.w3.org/ns/sosa/FeatureOfInterest']);
    expect(about(`${HUB}device`, `${RDFS}domain`)).toEqual([`${HUB}RadioLink`]);
    expect(about(`${HUB}gatewayId`, `${RDFS}range`)).toEqual(['http://www.w3.org/2001/XMLSchema#string']);
  });
});
