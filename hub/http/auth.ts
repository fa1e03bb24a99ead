// Bearer-token authorisation with scopes (read, write, act, admin); the admin token holds every scope.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isLoopback, type HubConfig, type Scope } from '../config.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

const ALL_SCOPES: Scope[] = ['read', 'write', 'act', 'admin'];

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenAuth {
  private readonly grants: Array<{ digest: Buffer; scopes: Set<Scope> }>;
  /** Whether read requests without a token are allowed. */
  readonly readsOpen: boolean;

  constructor(config: Pick<HubConfig, 'tokens' | 'readsOpen' | 'host'>, adminToken: string) {
    this.grants = [
      { digest: digest(adminToken), scopes: new Set(ALL_SCOPES) },
      ...config.tokens.map((t) => ({ digest: digest(t.token), scopes: new Set<Scope>(t.scopes) })),
    ];
    this.readsOpen = config.readsOpen === 'always' || (config.readsOpen === 'loopback' && isLoopback(config.host));
  }

  /** Scopes granted to a token, or undefined when the token is unknown. Compares digests in constant time. */
  scopesOf(token: string): Set<Scope> | undefined {
    const d = digest(token);
    let found: Set<Scope> | undefined;
    for (const g of this.grants) if (timingSafeEqual(g.digest, d)) found = g.scopes;
    return found;
  }

  /** Scopes of the Authorization header's bearer token; undefined without a header. Throws 401 for a bad or unknown token. */
  tokenScopes(authorization: string | undefined): Set<Scope> | undefined {
    if (!authorization) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new UnauthorizedError('The Authorization header must be "Bearer <token>"');
    const scopes = this.scopesOf(m[1]!);
    if (!scopes) throw new UnauthorizedError('The bearer token is not valid');
    return scopes;
  }

  /** Throws 401 without a valid token and 403 when the token lacks the scope; reads may be open. */
  check(authorization: string | undefined, scope: Scope): void {
    const scopes = this.tokenScopes(authorization);
    if (!scopes) {
      if (scope === 'read' && this.readsOpen) return;
      throw new UnauthorizedError(`This operation needs a bearer token with the '${scope}' scope`);
    }
    if (!scopes.has(scope) && !scopes.has('admin')) {
      throw new ForbiddenError(`The bearer token lacks the '${scope}' scope`);
    }
  }

  /** Whether the Authorization header carries a valid token with `scope` (never throws; for choosing limits). */
  allows(authorization: string | undefined, scope: Scope): boolean {
    try {
      const scopes = this.tokenScopes(authorization);
      return !!scopes && (scopes.has(scope) || scopes.has('admin'));
    } catch {
      return false;
    }
  }

  /**
   * A fastify onRequest hook that enforces `scope`. onRequest runs before a byte of the body is read or parsed, so a
   * request without the right token costs the hub its headers only (a refused upload is answered at once, and its
   * connection closed: see problem.ts).
   */
  require(scope: Scope): (request: FastifyRequest) => Promise<void> {
    return async (request: FastifyRequest) => {
      this.check(request.headers.authorization, scope);
    };
  }

  /**
   * An onRequest hook for routes whose scope depends on the body (a form on /sparql may be a query or an update):
   * refuses a bad token, and a missing one unless reads are open; the handler checks the scope once the body is parsed.
   */
  authenticated(): (request: FastifyRequest) => Promise<void> {
    return async (request: FastifyRequest) => {
      const scopes = this.tokenScopes(request.headers.authorization);
      if (!scopes && !this.readsOpen) throw new UnauthorizedError('This operation needs a bearer token');
    };
  }
}
