// Issue 8 defect 5: 414 and 431 (and other errors Node or fastify answered as plain text/JSON) are problem+json with
// stable codes.
import { describe, expect, it } from 'vitest';
import { classifyClientError } from '../../hub/http/client-errors.ts';
import type { TestHub } from '../helpers/hub.ts';
import { head, listeningHub, rawExchange } from './raw-http.ts';

describe('errors before routing are problem+json', () => {
  let hub: TestHub;
  let port: number;
  listeningHub((h, p) => ((hub = h), (port = p)));

  const host = () => ({ host: `127.0.0.1:${port}` });

  function expectProblem(res: { status: number; headers: Record<string, string>; body: string }, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const problem = JSON.parse(res.body);
    expect(problem).toMatchObject({ status, code, type: `${hub.config.baseUrl}/problems/${code}` });
    expect(typeof problem.title).toBe('string');
  }

  it('a request line over the header limit is 414 uri-too-long', async () => {
    const res = await rawExchange(port, head('GET', `/sparql?query=${'a'.repeat(20_000)}`, host()));
    expectProblem(res, 414, 'uri-too-long');
    expect(res.closed).toBe(true);
  });

  it('headers over the limit are 431 headers-too-large', async () => {
    const res = await rawExchange(port, head('GET', '/health', { ...host(), 'x-big': 'b'.repeat(20_000) }));
    expectProblem(res, 431, 'headers-too-large');
    expect(res.closed).toBe(true);
  });

  it("a path parameter over the router's limit is 414 uri-too-long (fastify FST_ERR_MAX_PARAM_LENGTH)", async () => {
    const res = await rawExchange(port, head('GET', `/things/urn:${'x'.repeat(3000)}`, { ...host(), connection: 'close' }));
    expectProblem(res, 414, 'uri-too-long');
  });

  it("a bad percent-encoding in the path is 400 bad-request (fastify FST_ERR_BAD_URL)", async () => {
    const res = await rawExchange(port, head('GET', '/things/%E0%A4%A', { ...host(), connection: 'close' }));
    expectProblem(res, 400, 'bad-request');
  });

  it('bytes that are not HTTP are 400 bad-request', async () => {
    const res = await rawExchange(port, 'HELLO\0WORLD\r\n\r\n');
    expectProblem(res, 400, 'bad-request');
  });

  it('classifies header overflow by where the request line ends', () => {
    const overflow = (packet: string) => Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW', rawPacket: Buffer.from(packet) });
    expect(classifyClientError(overflow(`GET /${'a'.repeat(10_000)}`)).code).toBe('uri-too-long');
    expect(classifyClientError(overflow(`GET / HTTP/1.1\r\nX: ${'a'.repeat(10_000)}`)).code).toBe('headers-too-large');
    expect(classifyClientError(overflow('aaaa')).code).toBe('headers-too-large');
    expect(classifyClientError(Object.assign(new Error('t'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })).status).toBe(408);
  });
});
