// Errors Node's HTTP parser reports before fastify sees a request (headers too large, header timeout, malformed bytes),
// answered as problem+json with stable codes instead of Node's or fastify's plain text.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../errors.ts';
import { rawProblemResponse } from './problem.ts';

/** What Node's 'clientError' event carries (lib/_http_server.js prepareError adds rawPacket, the chunk being parsed). */
type ClientError = Error & { code?: string; rawPacket?: unknown };

/** A request line longer than this, when the headers overflow, is reported as 414 rather than 431. */
const LONG_REQUEST_LINE = 8 * 1024;

/**
 * Node reports an oversized request line and oversized headers alike (HPE_HEADER_OVERFLOW: both count towards
 * --max-http-header-size, 16 KiB). The packet that overflowed tells them apart when it holds the request line: a
 * method, a space and no line end within LONG_REQUEST_LINE bytes is a long URI (RFC 9112 §3: 414), anything else 431
 * (RFC 6585 §5). A URI that reaches the hub but has a path segment over the router's limit is fastify's
 * FST_ERR_MAX_PARAM_LENGTH, mapped to the same `uri-too-long` in problem.ts.
 */
export function classifyClientError(err: ClientError): HubError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      const raw = err.rawPacket;
      const packet = Buffer.isBuffer(raw) ? raw.toString('latin1', 0, Math.min(raw.length, LONG_REQUEST_LINE + 2)) : '';
      const lineEnd = packet.indexOf('\r\n');
      if (/^[A-Z]+ /.test(packet) && (lineEnd < 0 || lineEnd > LONG_REQUEST_LINE)) {
        return new HubError(414, 'uri-too-long', 'The request URI is longer than the hub accepts (16 KiB with the headers)');
      }
      return new HubError(431, 'headers-too-large', 'The request headers are larger than the hub accepts (16 KiB)');
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HubError(408, 'request-timeout', 'The request was not received in time (requestTimeoutMs, headersTimeoutMs)');
    default:
      return new HubError(400, 'bad-request', 'The request is not valid HTTP/1.1');
  }
}

/**
 * fastify's `clientErrorHandler`: writes the problem on the socket when no response has started on it (Node's own
 * rule, lib/_http_server.js socketOnError), then destroys the socket. A reset connection gets nothing.
 */
export function clientErrorHandler(baseUrl: string) {
  return function onClientError(this: FastifyInstance, err: ClientError, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const problem = classifyClientError(err);
    this.log.debug({ code: problem.code, err }, 'client error');
    const inFlight = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
    if (socket.writable && !inFlight?._headerSent) socket.write(rawProblemResponse(problem, baseUrl));
    socket.destroy();
  };
}
