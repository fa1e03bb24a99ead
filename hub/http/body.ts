// Strict request bodies: UTF-8 that refuses malformed bytes (never a silent U+FFFD) and JSON with a depth bound and no
// prototype poisoning; installStrictBodyParsers() puts them in place of fastify's default application/json parser.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError } from '../errors.ts';

/**
 * Deepest JSON nesting (objects and arrays) a request body may have. A TD nests data schemas a dozen levels at most;
 * 100,000 levels would overflow the stack of every recursive consumer (merge patch, validation, JSON-LD, clone).
 */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a body as UTF-8 (RFC 3629), refusing malformed sequences with 400 `bad-encoding` (the code the SPARQL
 * Protocol endpoint uses). Every text body the hub reads comes through here: RDF, N3 Patch, SPARQL, mapfiles, JSON.
 */
export function decodeUtf8Strict(bytes: Uint8Array | undefined, what = 'request body'): string {
  if (!bytes || bytes.length === 0) return '';
  try {
    return utf8.decode(bytes);
  } catch (e) {
    throw new BadRequestError(`The ${what} is not valid UTF-8`, { cause: e }, 'bad-encoding');
  }
}

/**
 * Checks a parsed JSON value without recursion: nesting deeper than `maxDepth` is 400 `json-too-deep`; a `__proto__`
 * member or a `constructor` member holding `prototype` is 400 `bad-json` (as fastify's parser in 'error' mode).
 */
export function checkJsonValue(value: unknown, what = 'request body', maxDepth = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > maxDepth) {
      throw new BadRequestError(`The ${what} nests JSON deeper than ${maxDepth} levels`, undefined, 'json-too-deep');
    }
    if (Array.isArray(node)) {
      for (const item of node) if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(node)) {
      const member = (node as Record<string, unknown>)[key];
      if (key === '__proto__') throw new BadRequestError(`The ${what} has a forbidden '__proto__' member`, undefined, 'bad-json');
      if (key === 'constructor' && typeof member === 'object' && member !== null && Object.hasOwn(member, 'prototype')) {
        throw new BadRequestError(`The ${what} has a forbidden 'constructor.prototype' member`, undefined, 'bad-json');
      }
      if (typeof member === 'object' && member !== null) stack.push([member, depth + 1]);
    }
  }
}

/** JSON.parse (RFC 8259) plus checkJsonValue; a syntax error is 400 `bad-json`. */
export function parseJsonText(text: string, what = 'request body', maxDepth = MAX_JSON_DEPTH): unknown {
  if (text.trim() === '') throw new BadRequestError(`The ${what} is empty; JSON was expected`, undefined, 'bad-json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(`The ${what} is not valid JSON: ${(e as Error).message.slice(0, 200)}`, { cause: e }, 'bad-json');
  }
  checkJsonValue(value, what, maxDepth);
  return value;
}

/** A JSON body from bytes: strict UTF-8 (RFC 8259 §8.1 requires it), then parseJsonText. */
export function parseJsonBody(bytes: Uint8Array | undefined, what = 'request body', maxDepth = MAX_JSON_DEPTH): unknown {
  return parseJsonText(decodeUtf8Strict(bytes, what), what, maxDepth);
}

/**
 * An application/x-www-form-urlencoded body (WHATWG URL §5.1) whose percent-escapes must also be UTF-8: URLSearchParams
 * would turn `%C3%28` into U+FFFD, decodeURIComponent refuses it (400 `bad-encoding`). Repeated names keep every value.
 */
export function parseFormStrict(bytes: Uint8Array | undefined, what = 'form body'): URLSearchParams {
  const out = new URLSearchParams();
  for (const pair of decodeUtf8Strict(bytes, what).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    try {
      out.append(decodeURIComponent(name.replace(/\+/g, ' ')), decodeURIComponent(value.replace(/\+/g, ' ')));
    } catch (e) {
      throw new BadRequestError(`The ${what} has a percent-escape that is not UTF-8 (or a stray '%')`, { cause: e }, 'bad-encoding');
    }
  }
  return out;
}

/** A query-string parameter of `url` decoded as parseFormStrict does (a `%C3%28` is 400 `bad-encoding`, not U+FFFD). */
export function queryParamStrict(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return parseFormStrict(Buffer.from(url.slice(q + 1), 'latin1'), 'query string').get(name) ?? undefined;
}

type Done = (err: Error | null, body?: unknown) => void;

/** A fastify content-type parser (parseAs: 'buffer') for JSON media types. */
export function strictJsonParser(_request: FastifyRequest, body: string | Buffer, done: Done): void {
  try {
    done(null, parseJsonBody(typeof body === 'string' ? Buffer.from(body) : body));
  } catch (e) {
    done(e as Error);
  }
}

/** A fastify content-type parser (parseAs: 'buffer') for text: a strictly decoded UTF-8 string. */
export function strictTextParser(_request: FastifyRequest, body: string | Buffer, done: Done): void {
  try {
    done(null, typeof body === 'string' ? body : decodeUtf8Strict(body));
  } catch (e) {
    done(e as Error);
  }
}

/**
 * Replaces fastify's application/json and text/plain parsers (which decode with replacement characters) by the strict
 * ones on `app` and every plugin registered after it; `jsonTypes` adds more JSON media types (e.g. application/td+json).
 */
export function installStrictBodyParsers(app: FastifyInstance, jsonTypes: string[] = []): void {
  for (const type of ['application/json', 'text/plain', ...jsonTypes]) {
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  }
  app.addContentTypeParser(['application/json', ...jsonTypes], { parseAs: 'buffer' }, strictJsonParser);
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, strictTextParser);
}
