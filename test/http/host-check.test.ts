// Issue 8 defect 5: while bound to loopback, a request naming another host (DNS rebinding) gets 421 host-not-allowed.
import { afterEach, describe, expect, it } from 'vitest';
import { hostName } from '../../hub/http/host-check.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

describe('Host header check', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.stop();
    hub = undefined;
  });

  const get = (h: TestHub, url: string, host: string) => h.app.inject({ method: 'GET', url, headers: { host } });

  it('refuses a rebinding Host on an open read, and accepts loopback names and the baseUrl host', async () => {
    hub = await startTestHub({ baseUrl: 'http://hub.example.org:8080' });
    for (const url of ['/things', '/sparql?query=ASK%7B%7D', '/ldp/', '/events']) {
      const res = await get(hub, url, 'attacker.example:8080');
      expect(res.statusCode).toBe(421);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 421, code: 'host-not-allowed' });
    }
    // 0.0.0.0 reaches loopback services in browsers too ("0.0.0.0 day"): not a loopback name.
    expect((await get(hub, '/things', '0.0.0.0:8080')).statusCode).toBe(421);
    for (const host of ['localhost:8080', 'localhost', 'LOCALHOST', 'app.localhost:1', '127.0.0.1:8080', '127.1.2.3', '[::1]:8080', 'hub.example.org:8080', 'hub.example.org']) {
      expect((await get(hub, '/things', host)).statusCode, host).toBe(200);
    }
  });

  it('allowedHosts extends the list', async () => {
    hub = await startTestHub({ allowedHosts: ['hub.lan', 'gateway.local:9000'] });
    expect((await get(hub, '/things', 'hub.lan:8080')).statusCode).toBe(200);
    expect((await get(hub, '/things', 'gateway.local:9000')).statusCode).toBe(200);
    expect((await get(hub, '/things', 'other.lan')).statusCode).toBe(421);
  });

  it('is off when the hub is bound to a non-loopback address (tokens protect reads there)', async () => {
    hub = await startTestHub({ host: '0.0.0.0', tokens: [] });
    const res = await hub.app.inject({ method: 'GET', url: '/things', headers: { host: 'hub.example.net', authorization: hub.bearer } });
    expect(res.statusCode).toBe(200);
  });

  it('reads the host name of a Host header', () => {
    expect(hostName('Example.ORG:80')).toBe('example.org');
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
  });
});
