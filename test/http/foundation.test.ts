// Config validation, bearer auth and problem+json: the contracts every plugin relies on.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../hub/config.ts';
import { ConfigError } from '../../hub/errors.ts';
import { TokenAuth } from '../../hub/http/auth.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

describe('loadConfig', () => {
  it('layers defaults < env < flags', () => {
    const c = loadConfig({ env: { HUB_HTTP_PORT: '9001', HUB_HOST: '127.0.0.2' }, argv: ['--port', '9002', '--data=/tmp/x'] });
    expect(c.httpPort).toBe(9002);
    expect(c.host).toBe('127.0.0.2');
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.baseUrl).toBe('http://127.0.0.2:9002');
    expect(c.queryTimeoutMs).toBe(30_000);
  });

  it('lists every bad value at once', () => {
    try {
      loadConfig({ env: { HUB_HTTP_PORT: '70000', HUB_READS_OPEN: 'sometimes' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(2);
      expect((e as ConfigError).message).toMatch(/httpPort/);
      expect((e as ConfigError).message).toMatch(/readsOpen/);
    }
  });

  it('rejects a non-numeric port, an unknown flag and a flag without value', () => {
    expect(() => loadConfig({ env: { HUB_HTTP_PORT: 'eighty' } })).toThrow(/HUB_HTTP_PORT: 'eighty' is not a number/);
    expect(() => loadConfig({ argv: ['--prot', '1'] })).toThrow(/Unknown flag --prot/);
    expect(() => loadConfig({ argv: ['--port'] })).toThrow(/needs a value/);
  });
});

describe('TokenAuth', () => {
  const cfg = { tokens: [{ token: 'reader-token-0123456789', scopes: ['read' as const] }], readsOpen: 'loopback' as const, host: '127.0.0.1' };

  it('opens reads on loopback and closes them elsewhere', () => {
    expect(() => new TokenAuth(cfg, 'admin-token-0123456789').check(undefined, 'read')).not.toThrow();
    expect(() => new TokenAuth({ ...cfg, host: '0.0.0.0' }, 'admin-token-0123456789').check(undefined, 'read')).toThrow(/bearer token/);
  });

  it('distinguishes missing, wrong and under-scoped tokens', () => {
    const auth = new TokenAuth(cfg, 'admin-token-0123456789');
    expect(() => auth.check(undefined, 'write')).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => auth.check('Bearer nope-nope-nope-nope', 'read')).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => auth.check('Basic abc', 'write')).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => auth.check('Bearer reader-token-0123456789', 'write')).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => auth.check('Bearer admin-token-0123456789', 'act')).not.toThrow();
  });
});

describe('problem+json', () => {
  let hub: TestHub;
  afterEach(() => hub?.stop());

  it('answers unknown routes with a typed problem', async () => {
    hub = await startTestHub();
    const res = await hub.app.inject({ method: 'GET', url: '/no/such/thing' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ status: 404, code: 'not-found', title: 'Not Found' });
    expect(body.type).toMatch(/\/problems\/not-found$/);
  });

  it('writes a generated admin token with mode 0600 when none is configured', async () => {
    const { mkdtempSync, statSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'hub-token-'));
    const { validateConfig } = await import('../../hub/config.ts');
    const { createHub } = await import('../../hub/hub.ts');
    const h = await createHub(validateConfig({ dataDir: dir, httpPort: 0, logLevel: 'silent' }), { logger: false });
    try {
      expect(h.adminTokenFile).toBe(join(dir, 'admin.token'));
      expect(statSync(h.adminTokenFile!).mode & 0o777).toBe(0o600);
      expect(readFileSync(h.adminTokenFile!, 'utf8').trim()).toBe(h.adminToken);
      expect(h.adminToken.length).toBeGreaterThanOrEqual(32);
    } finally {
      await h.stop();
    }
  });
});
