// Per-client query budget: how long a query may run (anonymous reads get less) and how many one client may run at once.
//
// The embedded store runs one query at a time (store/embedded/worker-host.ts): a client that sends many slow queries
// would otherwise keep everyone else waiting. Anonymous clients are told apart by remote address, token holders by
// token (its digest: the raw token is not kept).
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { HubConfig } from '../config.ts';
import { TooManyRequestsError } from '../errors.ts';

export type GateConfig = Pick<HubConfig, 'queryTimeoutMs' | 'anonymousQueryTimeoutMs' | 'maxQueriesPerClient'>;

export class QueryGate {
  private readonly running = new Map<string, number>();

  constructor(private readonly config: GateConfig) {}

  /** The client a request counts against, and its time budget (config.anonymousQueryTimeoutMs without a token). */
  budget(request: Pick<FastifyRequest, 'headers' | 'ip'>): { client: string; timeoutMs: number } {
    const auth = request.headers.authorization;
    if (!auth) return { client: `addr:${request.ip}`, timeoutMs: Math.min(this.config.anonymousQueryTimeoutMs, this.config.queryTimeoutMs) };
    return { client: `token:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}`, timeoutMs: this.config.queryTimeoutMs };
  }

  /**
   * Runs `query` with the request's time budget, unless its client already runs config.maxQueriesPerClient queries:
   * then 429 `too-many-queries` with Retry-After (RFC 6585 §4), before anything reaches the store.
   */
  async run<T>(request: Pick<FastifyRequest, 'headers' | 'ip'>, query: (timeoutMs: number) => Promise<T>): Promise<T> {
    const { client, timeoutMs } = this.budget(request);
    const n = this.running.get(client) ?? 0;
    if (n >= this.config.maxQueriesPerClient) {
      throw new TooManyRequestsError(
        `This client already runs ${n} queries (at most ${this.config.maxQueriesPerClient} at once); retry when one has finished`,
        Math.max(1, Math.ceil(timeoutMs / 1000)),
        undefined,
        'too-many-queries',
      );
    }
    this.running.set(client, n + 1);
    try {
      return await query(timeoutMs);
    } finally {
      const left = (this.running.get(client) ?? 1) - 1;
      if (left > 0) this.running.set(client, left);
      else this.running.delete(client);
    }
  }
}

const gates = new WeakMap<object, QueryGate>();

/** The one gate of a hub (keyed by its configuration object), shared by /sparql and /search/sparql. */
export function queryGate(config: GateConfig): QueryGate {
  let gate = gates.get(config);
  if (!gate) gates.set(config, (gate = new QueryGate(config)));
  return gate;
}
