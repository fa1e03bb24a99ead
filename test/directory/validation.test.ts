// TD validation (TD 1.1 JSON Schema + discovery extensions) and hostile input: every error listed, nothing crashes the hub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TdValidator, jsonDepth } from '../../hub/directory/validator.ts';
import { ValidationError } from '../../hub/errors.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { putTd, sampleTd, thingUrl } from './fixtures.ts';

describe('TdValidator', () => {
  const validator = new TdValidator();

  it('accepts a valid TD 1.1', () => {
    expect(() => validator.validate(sampleTd('urn:x:v'))).not.toThrow();
  });

  it('tdd-validation-jsonschema tdd-validation-result: lists every error, not only the first', () => {
    const td = { ...sampleTd('urn:x:v'), title: 7, security: undefined, properties: { a: { type: 'nonsense', forms: 'x' } }, registration: { ttl: -1, created: 'yesterday' } };
    try {
      validator.validate(JSON.parse(JSON.stringify(td)));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const fields = ((e as ValidationError).extensions.validationErrors as Array<{ field: string }>).map((x) => x.field);
      expect(fields).toEqual(expect.arrayContaining(['/title', '/security', '/properties/a/forms', '/registration/ttl', '/registration/created']));
      expect(new Set(fields).size).toBe(fields.length);
    }
  });

  it('refuses nesting deeper than the limit without recursing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(jsonDepth(deep, 70)).toBeGreaterThan(64);
    expect(() => validator.validate({ ...sampleTd('urn:x:deep'), description: deep })).toThrow(
      expect.objectContaining({ extensions: { validationErrors: [{ field: '/', description: 'must not be nested deeper than 64 levels' }] } }),
    );
  });
});

describe('hostile input over HTTP', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.stop());

  it('tdd-validation-response tdd-validation-response-utf-8: 400 problem+json with validationErrors [{field, description}]', async () => {
    const res = await putTd(hub, 'urn:x:bad', { ...sampleTd('urn:x:bad'), title: 7, '@context': 'https://example.org/not-td', properties: { a: {} } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.code).toBe('validation-failed');
    expect(body.validationErrors.length).toBeGreaterThanOrEqual(3);
    for (const e of body.validationErrors) {
      expect(typeof e.field).toBe('string');
      expect(typeof e.description).toBe('string');
    }
  });

  it('tdd-validation-syntactic: bad JSON, an array body and an empty body are 400', async () => {
    const headers = { authorization: hub.bearer, 'content-type': 'application/td+json' };
    for (const payload of ['{"title": ', '[1,2]', 'null', '"str"']) {
      const res = await hub.app.inject({ method: 'PUT', url: thingUrl('urn:x:j'), headers, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const empty = await hub.app.inject({ method: 'POST', url: '/things', headers });
    expect(empty.statusCode).toBe(400);
  });

  it('prototype poisoning is refused', async () => {
    const res = await hub.app.inject({
      method: 'PUT', url: thingUrl('urn:x:proto'),
      headers: { authorization: hub.bearer, 'content-type': 'application/td+json' },
      payload: '{"id":"urn:x:proto","__proto__":{"polluted":true}}',
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an unsupported content type is 415', async () => {
    const res = await hub.app.inject({ method: 'PUT', url: thingUrl('urn:x:t'), headers: { authorization: hub.bearer, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(res.statusCode).toBe(415);
  });

  it('a huge TD is refused with 413 and the hub keeps serving', async () => {
    const td = { ...sampleTd('urn:x:huge'), description: 'x'.repeat(2 * 1024 * 1024) };
    const res = await putTd(hub, 'urn:x:huge', td);
    expect(res.statusCode).toBe(413);
    expect((await hub.app.inject({ url: '/things' })).statusCode).toBe(200);
  });

  it('deeply nested JSON is a 400, not a crash', async () => {
    const payload = `{"id":"urn:x:n","description":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await hub.app.inject({ method: 'PUT', url: thingUrl('urn:x:n'), headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload });
    expect(res.statusCode).toBe(400);
  });

  it('bad merge patches: not an object, breaking the schema, or not JSON', async () => {
    await putTd(hub, 'urn:x:mp', sampleTd('urn:x:mp'));
    const headers = { authorization: hub.bearer, 'content-type': 'application/merge-patch+json' };
    for (const payload of ['[1]', '"x"', '{"properties":{"status":{"forms":null}}}', '{"title":']) {
      const res = await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:x:mp'), headers, payload });
      expect(res.statusCode, payload).toBe(400);
    }
    expect((await hub.app.inject({ url: thingUrl('urn:x:mp') })).json().properties.status.forms).toHaveLength(1);
  });

  it('a TD citing an unreachable remote context still registers (offline loader) and a malformed @context is a 400', async () => {
    const td = { ...sampleTd('urn:x:ctx'), '@context': ['https://www.w3.org/2022/wot/td/v1.1', 'https://unreachable.example/ctx.jsonld'] };
    expect((await putTd(hub, 'urn:x:ctx', td)).statusCode).toBe(201);
    const bad = { ...sampleTd('urn:x:ctx2'), '@context': ['https://www.w3.org/2022/wot/td/v1.1', { '@version': 2.5 }] };
    const res = await putTd(hub, 'urn:x:ctx2', bad);
    expect(res.statusCode).toBe(400);
    expect(res.json().validationErrors[0].field).toBe('/@context');
  });
});
