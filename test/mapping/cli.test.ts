// mapFile, the CLI's entry point, on a YARRRML mapfile over a hub:CurrentMessage envelope (--message).
import { join, resolve } from 'node:path';
import { Parser } from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { describe, expect, it } from 'vitest';
import { mapFile, toNQuads } from '../../hub/mapping/cli.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/mapping');

describe('mapFile', () => {
  it('runs a YARRRML mapfile on a message envelope', async () => {
    const quads = await mapFile(join(FIXTURES, 'yarrrml/observation.yml'), {
      message: { meta: { thingId: 'th-1', protocol: 'x', receivedAt: '2024-05-01T10:00:00.000Z' }, payload: { temperature: 19.5 } },
    });
    const obs = '<http://hub.example/things/th-1/observations/2024-05-01T10%3A00%3A00.000Z>';
    const want = new Parser({ format: 'application/n-quads' }).parse(`${obs} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/sosa/Observation> .
${obs} <http://www.w3.org/ns/sosa/madeBySensor> <http://hub.example/things/th-1> .
${obs} <http://www.w3.org/ns/sosa/hasSimpleResult> "19.5"^^<http://www.w3.org/2001/XMLSchema#double> .
${obs} <http://www.w3.org/ns/sosa/resultTime> "2024-05-01T10:00:00.000Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .`) as Quad[];
    expect(isomorphic(quads, want)).toBe(true);
    expect(toNQuads(quads).split('\n').filter(Boolean)).toHaveLength(4);
  });

  it('asks for a message when the mapfile reads hub:CurrentMessage', async () => {
    await expect(mapFile(join(FIXTURES, 'yarrrml/observation.yml'))).rejects.toThrow(/pass a message/);
  });
});
