// The one place that writes error bodies: every error becomes application/problem+json (RFC 9457) with a stable code.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../errors.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

export const PROBLEM_TYPE = 'application/problem+json';

/** Fastify's own errors, mapped to stable hub codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_VALIDATION: 'validation-failed',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad-request',
  FST_ERR_BAD_URL: 'bad-request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri-too-long',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function problemType(baseUrl: string, code: string): string {
  return `${baseUrl}/problems/${code}`;
}

/** Builds the problem body for any thrown value; 5xx details never leak internals. */
export function toProblem(error: unknown, baseUrl: string, instance?: string): { problem: Problem; headers: Record<string, string> } {
  let status = 500;
  let code = 'internal-error';
  let detail = 'The hub failed to handle this request; the cause is in its log';
  let extensions: Record<string, unknown> = {};
  let headers: Record<string, string> = {};
  if (error instanceof HubError) {
    status = error.status;
    code = error.code;
    extensions = error.extensions;
    headers = error.headers;
    // 501, 503 and 507 say what is missing, when to come back or what to free; their messages are written for clients,
    // never internals.
    if (status < 500 || status === 501 || status === 503 || status === 507) {
      detail = error.message;
    }
  } else {
    const fe = error as Partial<FastifyError> & { validation?: unknown };
    const sc = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (sc >= 400 && sc < 500) {
      status = sc;
      code = (fe.code && FASTIFY_CODES[fe.code]) ?? (sc === 404 ? 'not-found' : 'bad-request');
      detail = fe.message ?? TITLES[sc] ?? 'Bad request';
      if (fe.validation) extensions = { errors: fe.validation };
    }
  }
  const problem: Problem = {
    type: problemType(baseUrl, code),
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(instance ? { instance } : {}),
    ...withoutProblemMembers(extensions),
  };
  return { problem, headers };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, baseUrl: string): FastifyReply {
  const { problem, headers } = toProblem(error, baseUrl, request.url);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.debug({ code: problem.code }, problem.detail);
  // The security headers here too: fastify's frameworkErrors replies skip the onSend hooks that add them elsewhere.
  reply.code(problem.status).headers(SECURITY_HEADERS).headers(headers).type(PROBLEM_TYPE);
  // A refused request whose body is still on the way (e.g. 401 before a 9 MiB upload): close rather than read it all.
  if (bodyPending(request)) reply.header('connection', 'close');
  return request.method === 'HEAD' ? reply.send() : reply.send(JSON.stringify(problem));
}

function bodyPending(request: FastifyRequest): boolean {
  const raw = request.raw;
  if (raw.complete) return false;
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A whole HTTP/1.1 error response as bytes, for the errors Node reports on the socket before any request exists
 * (headers too large, header timeout, a malformed request): same problem+json body as every other error, the security
 * headers, and `Connection: close` since the connection cannot be reused.
 */
export function rawProblemResponse(error: HubError, baseUrl: string, extraHeaders: Record<string, string> = {}): string {
  const { problem, headers } = toProblem(error, baseUrl);
  const body = JSON.stringify(problem);
  const lines = [
    `HTTP/1.1 ${problem.status} ${problem.title}`,
    `content-type: ${PROBLEM_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries({ ...SECURITY_HEADERS, ...extraHeaders, ...headers }).map(([k, v]) => `${k}: ${v}`),
    'connection: close',
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Installs the error and not-found handlers on the root instance; child plugins inherit them. */
export function installProblemHandlers(app: FastifyInstance, baseUrl: string): void {
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, baseUrl));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new HubError(404, 'not-found', `No resource at ${request.method} ${request.url.split('?')[0]}`), baseUrl),
  );
}

/** Extension members never replace RFC 9457's own (an error's `status` extension must not become the HTTP status). */
function withoutProblemMembers(extensions: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, title: _title, status: _status, detail: _detail, code: _code, instance: _instance, ...rest } = extensions;
  return rest;
}
