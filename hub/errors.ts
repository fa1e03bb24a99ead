// Typed errors of the hub: each subclass fixes an HTTP status and a stable problem code (RFC 9457).

export interface HubErrorOptions {
  cause?: unknown;
  /** Extra members copied into the problem+json body (e.g. `validationErrors`, `position`). */
  extensions?: Record<string, unknown>;
  /** Extra response headers (e.g. a `Link: rel=constrainedBy` on LDP 4xx). */
  headers?: Record<string, string>;
}

/**
 * Base class of every error the hub reports to a client. Handlers throw these; only hub/http/problem.ts writes
 * error bodies, as application/problem+json with `type: <base>/problems/<code>`.
 */
export class HubError extends Error {
  override name = 'HubError';
  readonly status: number;
  readonly code: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export class BadRequestError extends HubError {
  override name = 'BadRequestError';
  constructor(message: string, options?: HubErrorOptions, code = 'bad-request') {
    super(400, code, message, options);
  }
}

export class ValidationError extends HubError {
  override name = 'ValidationError';
  constructor(message: string, errors: Array<{ field: string; description: string }>, options: HubErrorOptions = {}) {
    super(400, 'validation-failed', message, {
      ...options,
      extensions: { validationErrors: errors, ...options.extensions },
    });
  }
}

export class UnauthorizedError extends HubError {
  override name = 'UnauthorizedError';
  constructor(message = 'A bearer token is required', options: HubErrorOptions = {}) {
    super(401, 'unauthorized', message, {
      ...options,
      headers: { 'www-authenticate': 'Bearer realm="hub"', ...options.headers },
    });
  }
}

export class ForbiddenError extends HubError {
  override name = 'ForbiddenError';
  constructor(message: string, options?: HubErrorOptions) {
    super(403, 'forbidden', message, options);
  }
}

export class NotFoundError extends HubError {
  override name = 'NotFoundError';
  constructor(message: string, options?: HubErrorOptions) {
    super(404, 'not-found', message, options);
  }
}

export class MethodNotAllowedError extends HubError {
  override name = 'MethodNotAllowedError';
  constructor(message: string, allow: string[], options: HubErrorOptions = {}) {
    super(405, 'method-not-allowed', message, { ...options, headers: { allow: allow.join(', '), ...options.headers } });
  }
}

export class NotAcceptableError extends HubError {
  override name = 'NotAcceptableError';
  constructor(message: string, options?: HubErrorOptions) {
    super(406, 'not-acceptable', message, options);
  }
}

export class ConflictError extends HubError {
  override name = 'ConflictError';
  constructor(message: string, options?: HubErrorOptions, code = 'conflict') {
    super(409, code, message, options);
  }
}

export class GoneError extends HubError {
  override name = 'GoneError';
  constructor(message: string, options?: HubErrorOptions) {
    super(410, 'gone', message, options);
  }
}

export class PreconditionFailedError extends HubError {
  override name = 'PreconditionFailedError';
  constructor(message: string, options?: HubErrorOptions) {
    super(412, 'precondition-failed', message, options);
  }
}

export class PayloadTooLargeError extends HubError {
  override name = 'PayloadTooLargeError';
  constructor(message: string, options?: HubErrorOptions) {
    super(413, 'payload-too-large', message, options);
  }
}

export class UnsupportedMediaTypeError extends HubError {
  override name = 'UnsupportedMediaTypeError';
  constructor(message: string, options?: HubErrorOptions) {
    super(415, 'unsupported-media-type', message, options);
  }
}

/**
 * A payload or frame that cannot be decoded (a codec's only error). `offset` (byte offset, or bit offset for SCHC
 * residues when `unit` is 'bit') and `field` (the member or header field) say where; both go into the problem body.
 */
export class DecodeError extends HubError {
  override name = 'DecodeError';
  readonly offset?: number;
  readonly field?: string;
  constructor(message: string, options: HubErrorOptions & { offset?: number; field?: string; unit?: 'byte' | 'bit' } = {}, code = 'decode-failed') {
    const where: Record<string, unknown> = {};
    if (options.offset !== undefined) where.offset = options.offset;
    if (options.field !== undefined) where.field = options.field;
    if (options.unit !== undefined) where.unit = options.unit;
    super(422, code, message, { ...options, extensions: { ...where, ...options.extensions } });
    this.offset = options.offset;
    this.field = options.field;
  }
}

/**
 * A mapfile the RML spec calls invalid (bad Turtle/YAML, an undefined reference target, a literal subject, ...), or a
 * message its plan cannot map. `term` names the offending term; `line`/`column` locate syntax errors.
 */
export class MappingError extends HubError {
  override name = 'MappingError';
  constructor(message: string, context: { term?: string; line?: number; column?: number } = {}, options: HubErrorOptions = {}, code = 'invalid-mapping') {
    super(422, code, message, { ...options, extensions: { ...context, ...options.extensions } });
  }
}

export class PreconditionRequiredError extends HubError {
  override name = 'PreconditionRequiredError';
  constructor(message: string, options?: HubErrorOptions) {
    super(428, 'precondition-required', message, options);
  }
}

export class UnsupportedProtocolError extends HubError {
  override name = 'UnsupportedProtocolError';
  constructor(protocol: string, options?: HubErrorOptions) {
    super(400, 'unsupported-protocol', `No binding is registered for protocol '${protocol}'`, options);
  }
}

/** A SPARQL query or update the parser rejected; `position` carries line/column when the parser gives them. */
export class SparqlSyntaxError extends HubError {
  override name = 'SparqlSyntaxError';
  constructor(message: string, position?: { line: number; column: number }, options: HubErrorOptions = {}) {
    super(400, 'sparql-syntax', message, {
      ...options,
      extensions: position ? { position, ...options.extensions } : options.extensions,
    });
  }
}

export class QueryTimeoutError extends HubError {
  override name = 'QueryTimeoutError';
  constructor(timeoutMs: number, options?: HubErrorOptions) {
    super(503, 'query-timeout', `The query did not finish within ${timeoutMs} ms and was ended`, options);
  }
}

export class ServiceUnavailableError extends HubError {
  override name = 'ServiceUnavailableError';
  constructor(message: string, options?: HubErrorOptions, code = 'unavailable') {
    super(503, code, message, options);
  }
}

/** An error in the store itself (I/O, a corrupt log); reported as a generic 500, cause logged. */
export class StoreError extends HubError {
  override name = 'StoreError';
  constructor(message: string, options?: HubErrorOptions) {
    super(500, 'store-failed', message, options);
  }
}

/**
 * The store holds as many quads as it may (config.store.maxQuads): the engine keeps every quad in a WebAssembly
 * memory that cannot grow past 4 GiB. Writes that add quads get 507 until graphs are deleted or retention drops them.
 */
export class StoreFullError extends HubError {
  override name = 'StoreFullError';
  constructor(message: string, options?: HubErrorOptions) {
    super(507, 'store-full', message, options);
  }
}

/** The store's write backlog is full (config.store.maxPendingWrites); the client should retry later. */
export class OverloadedError extends HubError {
  override name = 'OverloadedError';
  constructor(message: string, options: HubErrorOptions = {}) {
    super(503, 'overloaded', message, { ...options, headers: { 'retry-after': '1', ...options.headers } });
  }
}

/** The store's log or snapshot is damaged in a way recovery will not guess around; the store refuses to open. */
export class StoreCorruptError extends HubError {
  override name = 'StoreCorruptError';
  constructor(message: string, options?: HubErrorOptions) {
    super(500, 'store-corrupt', message, options);
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(message: string, readonly problems: string[] = []) {
    super(problems.length ? `${message}:\n  - ${problems.join('\n  - ')}` : message);
  }
}

/** A request whose Host names neither loopback nor a configured host while the hub is bound to loopback (DNS rebinding). */
export class HostNotAllowedError extends HubError {
  override name = 'HostNotAllowedError';
  constructor(message: string, options?: HubErrorOptions) {
    super(421, 'host-not-allowed', message, options);
  }
}

/** A client over one of its quotas (e.g. event streams per client); `Retry-After` says when to try again (RFC 6585 §4). */
export class TooManyRequestsError extends HubError {
  override name = 'TooManyRequestsError';
  constructor(message: string, retryAfterSeconds: number, options: HubErrorOptions = {}, code = 'too-many-requests') {
    super(429, code, message, { ...options, headers: { 'retry-after': String(retryAfterSeconds), ...options.headers } });
  }
}

/**
 * A JSONPath query (RFC 9535) the hub will not evaluate: `jsonpath-syntax` (not a valid query; `offset` locates it),
 * `jsonpath-too-complex` (over the length or nesting cap, or over the evaluation's work budget or deadline) or
 * `jsonpath-too-large` (selects more nodes or bytes than the cap). 400: the query, not the data, is at fault.
 */
export class JsonPathError extends HubError {
  override name = 'JsonPathError';
  constructor(code: 'jsonpath-syntax' | 'jsonpath-too-complex' | 'jsonpath-too-large', message: string, options: HubErrorOptions = {}) {
    super(400, code, message, options);
  }
}

/**
 * A valid request for a feature the hub does not implement (e.g. SPARQL 1.1 Federated Query SERVICE): 501 (RFC 9110
 * §15.6.2), which W3C WoT Discovery tdd-http-unsupported-feature allows for the search API.
 */
export class NotImplementedError extends HubError {
  override name = 'NotImplementedError';
  constructor(message: string, options?: HubErrorOptions, code = 'unsupported-feature') {
    super(501, code, message, options);
  }
}
