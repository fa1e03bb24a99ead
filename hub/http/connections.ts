// Connection-level limits of the HTTP server: timeouts (whole request, headers, keep-alive, idle) and connection caps.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import type { HubConfig } from '../config.ts';

type TimeoutConfig = Pick<HubConfig, 'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'idleTimeoutMs' | 'queryTimeoutMs'>;

/**
 * fastify/Node server options for the hub's timeouts. Node enforces requestTimeout (the whole request, headers and
 * body, must arrive in time: slow uploads are cut off with 408) and headersTimeout from a periodic sweep
 * (connectionsCheckingInterval, 30 s by default: far too coarse here). Neither applies once a request is received, so
 * long-lived responses (Server-Sent Events) are not cut by them. The idle timeout (socket inactivity either way)
 * closes connections whose peer went silent; it never goes below the query timeout, since a query's connection is
 * quiet while the store works, and event streams send heartbeats well inside it.
 */
export function serverTimeouts(config: TimeoutConfig): Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout'> & {
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  const requestTimeout = config.requestTimeoutMs;
  const headersTimeout = Math.min(config.headersTimeoutMs, requestTimeout);
  const connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4)));
  return {
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: idleTimeout(config),
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval },
  };
}

/** The idle timeout in force: idleTimeoutMs, but never below queryTimeoutMs + 5 s. */
export function idleTimeout(config: Pick<HubConfig, 'idleTimeoutMs' | 'queryTimeoutMs'>): number {
  return Math.max(config.idleTimeoutMs, config.queryTimeoutMs + 5000);
}

/**
 * How often event streams send a heartbeat comment: every 15 s (the usual proxy-friendly interval), or a third of the
 * idle timeout when that is shorter, so that a quiet stream to a live client is never idle long enough to be closed.
 */
export function heartbeatInterval(config: Partial<Pick<HubConfig, 'idleTimeoutMs' | 'queryTimeoutMs'>> | undefined): number {
  if (config?.idleTimeoutMs === undefined || config.queryTimeoutMs === undefined) return 15_000;
  return Math.max(100, Math.min(15_000, Math.floor(idleTimeout(config as Pick<HubConfig, 'idleTimeoutMs' | 'queryTimeoutMs'>) / 3)));
}

export interface ConnectionQuota {
  /** Open connections, all clients together (Node's server.maxConnections: beyond it a new connection is dropped). */
  total: number;
  /** Open connections per client address. */
  perClient: number;
}

/**
 * Caps connections in total and per client address, so that one client opening a thousand sockets (idle, or each with
 * an event stream) cannot make the hub unreachable for others. A connection over its client's quota is closed at once,
 * before a byte is parsed, as Node does for server.maxConnections; the client sees a reset and may retry. Returns the
 * live count per client (for tests and /health).
 */
export function limitConnections(server: Server, quota: ConnectionQuota): Map<string, number> {
  server.maxConnections = quota.total;
  const perClient = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    const n = perClient.get(client) ?? 0;
    if (n >= quota.perClient) {
      socket.destroy();
      return;
    }
    perClient.set(client, n + 1);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });
  return perClient;
}
