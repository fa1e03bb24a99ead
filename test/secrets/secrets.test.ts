// Secret store: file modes, persistence, lookups by reference, and the admin-only routes (values never returned).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../hub/config.ts';
import { TokenAuth } from '../../hub/http/auth.ts';
import { installProblemHandlers } from '../../hub/http/problem.ts';
import { SecretStore, secretsRoutes } from '../../hub/secrets/index.ts';

const ADMIN = 'admin-token-0123456789abcdef0123';
const WRITER = 'writer-token-0123456789abcdef0123';
const KEY = '44024241ed4ce9a68c6a8bc055233fd3';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretStore', () => {
  it('stores, looks up by secret:<name>, persists 0600 in a 0700 directory, deletes', async () => {
    const data = join(dir, 'data');
    const s = new SecretStore(data);
    expect(await s.put('dev1-nwk', Buffer.from(KEY, 'hex'))).toBe(true);
    expect(await s.put('dev1-nwk', Buffer.from(KEY, 'hex'))).toBe(false);
    expect(Buffer.from(s.secret('secret:dev1-nwk')!).toString('hex')).toBe(KEY);
    expect(Buffer.from(s.secret('dev1-nwk')!).toString('hex')).toBe(KEY);
    expect(s.secret('secret:other')).toBeUndefined();
    expect(statSync(join(data, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    // A caller changing the returned bytes does not change the secret.
    s.secret('dev1-nwk')!.fill(0);
    expect(Buffer.from(s.secret('dev1-nwk')!).toString('hex')).toBe(KEY);
    const again = new SecretStore(data);
    expect(again.names()).toEqual(['dev1-nwk']);
    await again.delete('dev1-nwk');
    await expect(again.delete('dev1-nwk')).rejects.toMatchObject({ status: 404 });
    expect(new SecretStore(data).names()).toEqual([]);
  });

  it('refuses bad names and values; a corrupt file stops the start without quoting it', async () => {
    const s = new SecretStore(dir);
    await expect(s.put('../x', Buffer.from('01', 'hex'))).rejects.toMatchObject({ code: 'secret-name' });
    await expect(s.put('x', Buffer.alloc(0))).rejects.toMatchObject({ code: 'secret-invalid' });
    writeFileSync(join(dir, 'secrets.json'), `{"secrets":{"a":"${KEY}"`);
    expect(() => new SecretStore(dir)).toThrow(/not valid JSON/);
    try {
      new SecretStore(dir);
    } catch (e) {
      expect(String(e)).not.toContain(KEY);
    }
  });

  it('concurrent puts all land in the file', async () => {
    const s = new SecretStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(`k${i}`, Buffer.from([i + 1]))));
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).secrets)).toHaveLength(20);
  });
});

describe('secrets routes', () => {
  let app: FastifyInstance;
  let store: SecretStore;
  const admin = { authorization: `Bearer ${ADMIN}` };
  beforeEach(async () => {
    const config = validateConfig({ host: '127.0.0.1', dataDir: dir, adminToken: ADMIN, tokens: [{ token: WRITER, scopes: ['read', 'write'] }] });
    store = new SecretStore(dir);
    app = Fastify({ logger: false });
    installProblemHandlers(app, 'http://127.0.0.1');
    await secretsRoutes(app, { auth: new TokenAuth(config, ADMIN), secrets: store });
    await app.ready();
  });
  afterEach(() => app.close());

  it('PUT (JSON and text), GET lists names only, DELETE', async () => {
    let r = await app.inject({ method: 'PUT', url: '/secrets/dev1-nwk', headers: admin, payload: { value: KEY } });
    expect(r.statusCode).toBe(201);
    r = await app.inject({ method: 'PUT', url: '/secrets/dev1-app', headers: { ...admin, 'content-type': 'text/plain' }, payload: `ec:92:58:02:ae:43:0c:a7:7f:d3:dd:73:cb:2c:c5:88\n` });
    expect(r.statusCode).toBe(201);
    r = await app.inject({ method: 'PUT', url: '/secrets/dev1-nwk', headers: admin, payload: { value: KEY } });
    expect(r.statusCode).toBe(204);
    expect(Buffer.from(store.secret('secret:dev1-app')!).toString('hex')).toBe('ec925802ae430ca77fd3dd73cb2cc588');
    r = await app.inject({ method: 'GET', url: '/secrets', headers: admin });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ secrets: [{ name: 'dev1-app', ref: 'secret:dev1-app' }, { name: 'dev1-nwk', ref: 'secret:dev1-nwk' }] });
    expect(r.body).not.toContain(KEY);
    expect(r.body).not.toContain('ec925802');
    r = await app.inject({ method: 'DELETE', url: '/secrets/dev1-nwk', headers: admin });
    expect(r.statusCode).toBe(204);
    r = await app.inject({ method: 'DELETE', url: '/secrets/dev1-nwk', headers: admin });
    expect(r.statusCode).toBe(404);
    expect(r.headers['content-type']).toContain('application/problem+json');
  });

  it('needs the admin scope: none 401, write 403', async () => {
    for (const headers of [{}, { authorization: `Bearer ${WRITER}` }]) {
      for (const [method, url] of [['GET', '/secrets'], ['PUT', '/secrets/a'], ['DELETE', '/secrets/a']] as const) {
        const r = await app.inject({ method, url, headers, payload: method === 'PUT' ? { value: KEY } : undefined });
        expect(r.statusCode).toBe('authorization' in headers ? 403 : 401);
      }
    }
    expect(store.names()).toEqual([]);
  });

  it('without a SecretStore behind the lookup: an empty list, writes 501', async () => {
    const config = validateConfig({ host: '127.0.0.1', dataDir: dir, adminToken: ADMIN });
    const bare = Fastify({ logger: false });
    installProblemHandlers(bare, 'http://127.0.0.1');
    await secretsRoutes(bare, { auth: new TokenAuth(config, ADMIN), secrets: { secret: () => undefined } });
    expect((await bare.inject({ url: '/secrets', headers: admin })).json()).toEqual({ secrets: [] });
    expect((await bare.inject({ method: 'PUT', url: '/secrets/a', headers: admin, payload: { value: KEY } })).statusCode).toBe(501);
    await bare.close();
  });

  it('bad values are 400 without echoing them; bad names 400', async () => {
    const secretish = 'zz' + KEY;
    let r = await app.inject({ method: 'PUT', url: '/secrets/a', headers: admin, payload: { value: secretish } });
    expect(r.statusCode).toBe(400);
    expect(r.body).not.toContain(secretish);
    r = await app.inject({ method: 'PUT', url: '/secrets/a', headers: admin, payload: { nope: 1 } });
    expect(r.statusCode).toBe(400);
    r = await app.inject({ method: 'PUT', url: '/secrets/.hidden', headers: admin, payload: { value: KEY } });
    expect(r.statusCode).toBe(400);
    r = await app.inject({ method: 'PUT', url: '/secrets/a', headers: admin, payload: { value: 'ab'.repeat(600) } });
    expect(r.statusCode).toBe(413);
  });
});
