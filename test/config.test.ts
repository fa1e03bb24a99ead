// Config errors name what is wrong without printing secrets: adminToken, tokens[*].token, store.password.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRejected, loadConfig, validateConfig } from '../hub/config.ts';
import { ConfigError } from '../hub/errors.ts';

const SECRET = 'hunter2-SECRET'; // 14 characters: too short for a token (16), so the schema rejects it
const dir = mkdtempSync(join(tmpdir(), 'hub-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(run: () => unknown): ConfigError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config errors redact secrets', () => {
  it.each([
    ['a too-short adminToken', { adminToken: SECRET }, '/adminToken'],
    ['a too-short tokens[].token', { tokens: [{ token: SECRET, scopes: ['read'] }] }, '/tokens/0/token'],
    ['a tokens entry with a bad scope', { tokens: [{ token: `${SECRET}-long-enough`, scopes: ['rule-the-world'] }] }, '/tokens/0/scopes/0'],
    ['a tokens entry missing its scopes', { tokens: [{ token: `${SECRET}-long-enough` }] }, '/tokens/0'],
    ['tokens given as a string', { tokens: SECRET }, '/tokens'],
    ['tokens given as strings', { tokens: [SECRET] }, '/tokens/0'],
    ['a non-string store.password', { store: { password: [SECRET] } }, '/store/password'],
    ['a misspelt secret key', { admintoken: SECRET }, '/admintoken'],
    ['a store URL with userinfo', { store: { queryEndpoint: `http://dba:${SECRET}@ho st/sparql` } }, '/store/queryEndpoint'],
  ])('%s: the problem names %s, never the value', (_name, raw, path) => {
    const e = failure(() => validateConfig(raw as Record<string, unknown>));
    expect(e.message).toContain(path);
    expect(e.message).not.toContain(SECRET);
    expect(e.problems.join('\n')).not.toContain('hunter2');
  });

  it('still shows values that are not secret (a bad scope, a bad port)', () => {
    const e = failure(() => validateConfig({ httpPort: 70000, tokens: [{ token: `${SECRET}-long-enough`, scopes: ['rule-the-world'] }] }));
    expect(e.message).toContain('70000');
    expect(e.message).toContain('rule-the-world');
    expect(e.message).not.toContain(SECRET);
  });

  it('JSON syntax errors in HUB_TOKENS, --tokens and the config file give a position, not the text', () => {
    const text = `[{"token": "${SECRET}-long-enough", "scopes": ["read"]}`; // unterminated
    for (const sources of [{ env: { HUB_TOKENS: text } }, { argv: ['--tokens', text] }]) {
      const e = failure(() => loadConfig(sources));
      expect(e.message).toMatch(/not valid JSON/);
      expect(e.message).not.toContain('hunter2');
    }
    const file = join(dir, 'hub.json');
    writeFileSync(file, `{"adminToken": "${SECRET}-long-enough", }`);
    const e = failure(() => loadConfig({ argv: ['--config', file] }));
    expect(e.message).toMatch(/not valid JSON: syntax error at position \d+/);
    expect(e.message).not.toContain('hunter2');
  });

  it('a stray argument after a secret flag is not echoed', () => {
    const e = failure(() => loadConfig({ argv: ['--admin-token', 'first-half-of-it', 'hunter2-second-half'] }));
    expect(e.message).toMatch(/Unexpected argument #3/);
    expect(e.message).not.toContain('hunter2');
  });

  it('describeRejected shows a tokens list with its tokens replaced', () => {
    expect(describeRejected('/tokens', [{ token: SECRET, scopes: ['read'] }])).toBe(' (got [{"token":"<redacted>","scopes":["read"]}])');
    expect(describeRejected('/httpPort', 70000)).toBe(' (got 70000)');
    expect(describeRejected('/adminToken', SECRET)).not.toContain(SECRET);
  });
});

describe('store settings', () => {
  it('store.replicas and store.aggregates default to 2 and true, and come from env vars and flags', () => {
    const defaults = loadConfig({});
    expect(defaults.store.replicas).toBe(2);
    expect(defaults.store.aggregates).toBe(true);
    const fromEnv = loadConfig({ env: { HUB_STORE_REPLICAS: '1', HUB_STORE_AGGREGATES: 'false' } });
    expect(fromEnv.store.replicas).toBe(1);
    expect(fromEnv.store.aggregates).toBe(false);
    const fromFlags = loadConfig({ argv: ['--store-replicas', '3', '--store-aggregates=false'] });
    expect(fromFlags.store.replicas).toBe(3);
    expect(fromFlags.store.aggregates).toBe(false);
  });

  it('refuses a replica count outside 1..4 and a non-boolean aggregates, naming the key', () => {
    expect(failure(() => loadConfig({ env: { HUB_STORE_REPLICAS: '0' } })).message).toContain('/store/replicas');
    expect(failure(() => loadConfig({ argv: ['--store-aggregates', '"yes"'] })).message).toContain('/store/aggregates');
  });
});
