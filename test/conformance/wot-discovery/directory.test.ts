// WoT Discovery conformance: the Introduction and the directory's own TD over real HTTP, and which assertions the tests cover.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { failures, playgroundValidate } from '../../directory/playground.ts';

const ASSERTIONS = resolve(import.meta.dirname, '../../../../shared/conformance/wot-discovery/assertions.tsv');
let hub: TestHub;
let base: string;
beforeAll(async () => {
  hub = await startTestHub({}, { listen: true });
  base = baseUrlOf(hub);
});
afterAll(() => hub?.stop());

describe('Introduction and the directory TD', () => {
  it('introduction-well-known-path introduction-well-known-thing-description introduction-direct-thing-description introduction-direct-directory-description exploration-server-http-method exploration-server-http-resp exploration-server-http-resp-content-type exploration-server-http-resp-json exploration-directory-description-type', async () => {
    const res = await fetch(`${base}/.well-known/wot`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/td\+json/);
    const td = await res.json();
    expect(td['@type']).toBe('ThingDirectory');
    expect(td['@context']).toContain('https://www.w3.org/2022/wot/discovery');
    const result = await playgroundValidate(td);
    expect(failures(result), result.log.join('\n')).toEqual([]);
    expect(result.report.jsonld).toBe('passed');
  });

  it("the directory TD's forms work: listing, retrieval, search and events answer as the TD says", async () => {
    const td = await (await fetch(`${base}/.well-known/wot`)).json();
    const put = await fetch(`${base}/things/urn:c:1`, {
      method: 'PUT',
      headers: { authorization: hub.bearer, 'content-type': 'application/td+json' },
      body: JSON.stringify({ '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: 'urn:c:1', title: 'C', securityDefinitions: { n: { scheme: 'nosec' } }, security: 'n' }),
    });
    expect(put.status).toBe(201);
    const href = (f: { href: string }, vars: Record<string, string> = {}) =>
      new URL(f.href.replace(/\{\?[^}]*\}/, '').replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(vars[k] ?? '')), td.base).toString();
    const list = await fetch(href(td.properties.things.forms[0]));
    expect(list.headers.get('content-type')).toMatch(/^application\/(ld\+)?json/);
    expect((await list.json()).map((t: { id: string }) => t.id)).toContain('urn:c:1');
    const one = await fetch(href(td.actions.retrieveThing.forms[0], { id: 'urn:c:1' }));
    expect((await one.json()).title).toBe('C');
    const jp = await fetch(href(td.actions.searchJSONPath.forms[0], { query: '$[*].title' }));
    expect(await jp.json()).toContain('C');
    const sp = await fetch(href(td.actions.searchSPARQL.forms[0], { query: 'ASK { <urn:c:1> ?p ?o }' }));
    expect((await sp.json()).boolean).toBe(true);
    const controller = new AbortController();
    const ev = await fetch(href(td.events.thingCreated.forms[0]), { signal: controller.signal });
    expect(ev.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });
});

describe('assertion coverage', () => {
  it('every assertion id named in a directory test exists in assertions.tsv', () => {
    const known = new Set(readFileSync(ASSERTIONS, 'utf8').split('\n').map((l) => l.split('\t')[0]).filter(Boolean));
    const files = [
      ...readdirSync('test/directory').filter((f) => f.endsWith('.test.ts')).map((f) => join('test/directory', f)),
      ...readdirSync('test/conformance/wot-discovery').filter((f) => f.endsWith('.test.ts')).map((f) => join('test/conformance/wot-discovery', f)),
    ];
    const named = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\b((?:tdd|exploration|introduction)-[a-z0-9-]+[a-z0-9])\b/g)) named.add(m[1]!);
    }
    const unknown = [...named].filter((id) => !known.has(id));
    expect(unknown).toEqual([]);
    expect(named.size).toBeGreaterThan(40);
  });
});
