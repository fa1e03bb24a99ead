// Request body limits per route: fixed sizes for small bodies, and a preParsing hook for limits that depend on the request.
import { Transform } from 'node:stream';
import type { FastifyRequest, preParsingAsyncHookHandler } from 'fastify';
import { PayloadTooLargeError } from '../errors.ts';

/**
 * Bodies of routes that declare no limit (DELETE, OPTIONS, GET-like routes; fastify's own default): nothing the hub
 * reads there is large. Routes with real bodies name their limit (`bodyLimit` route option), so no route takes the
 * 10 MiB RDF write limit unless it is an RDF write behind a write token.
 */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** A request body without a token on a route whose scope depends on the body (a form on /sparql, /search/sparql). */
export const ANONYMOUS_BODY_LIMIT = 64 * 1024;

/** The input of a WoT action (WoT Binding Templates: a DataSchema value, a command to a device): small by nature. */
export const ACTION_BODY_LIMIT = 64 * 1024;

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body is larger than this route accepts (${limit} bytes)`, {
    extensions: { limit },
  });
}

/**
 * A preParsing hook enforcing `limitOf(request)` bytes: a declared Content-Length over it is refused before a byte of
 * the body is read; a chunked body is cut off at the limit. Use it with a route `bodyLimit` set to the largest value
 * `limitOf` can return (fastify still enforces that one).
 */
export function limitBody(limitOf: (request: FastifyRequest) => number): preParsingAsyncHookHandler {
  return async (request, _reply, payload) => {
    const limit = limitOf(request);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
    if (Number.isFinite(declared)) return payload; // fastify checks the received length against Content-Length
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > limit) callback(tooLarge(limit));
        else callback(null, chunk);
      },
    });
    return payload.pipe(counted);
  };
}
