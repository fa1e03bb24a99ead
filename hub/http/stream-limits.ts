// Quotas on long-lived Server-Sent Event streams: per client address (429) and in total (503), with Retry-After.
import type { FastifyRequest } from 'fastify';
import { ServiceUnavailableError, TooManyRequestsError } from '../errors.ts';

export interface StreamQuota {
  /** Streams open at once, all clients together. */
  total: number;
  /** Streams open at once from one client address. */
  perClient: number;
}

/** Seconds a refused client is told to wait (RFC 9110 §10.2.3 Retry-After). */
export const STREAM_RETRY_AFTER_S = 10;

/**
 * Counts open event streams (/events, /wot/{id}/properties/{name}/observable, /wot/{id}/events/{name}) so that one
 * client cannot hold every socket and file descriptor of the hub with streams that never end by themselves. The client
 * is the TCP peer address: behind a reverse proxy every client is the proxy, so raise `perClient` there.
 */
export class StreamLimiter {
  private readonly perClient = new Map<string, number>();
  private open = 0;

  constructor(private readonly quota: StreamQuota) {}

  /** Open streams, all clients together. */
  get count(): number {
    return this.open;
  }

  /** Takes one stream slot for the request's client; returns its release (idempotent). Throws 429 over a quota. */
  acquire(request: FastifyRequest): () => void {
    const client = request.socket?.remoteAddress ?? request.ip ?? 'unknown';
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.quota.perClient) {
      throw new TooManyRequestsError(
        `This client already has ${mine} event streams open (at most ${this.quota.perClient}); close one or retry later`,
        STREAM_RETRY_AFTER_S,
        { headers: { connection: 'close' } }, // nor keep the connection
        'too-many-streams',
      );
    }
    if (this.open >= this.quota.total) {
      // Not this client's doing: 503 overloaded (RFC 9110 §15.6.4), with the same Retry-After.
      throw new ServiceUnavailableError(`The hub already serves ${this.open} event streams; retry later`, {
        headers: { 'retry-after': String(STREAM_RETRY_AFTER_S), connection: 'close' },
      }, 'overloaded');
    }
    this.perClient.set(client, mine + 1);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n > 0) this.perClient.set(client, n);
      else this.perClient.delete(client);
    };
  }
}
