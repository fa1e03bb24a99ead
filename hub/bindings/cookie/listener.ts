// TCP listener for NUL-framed Cookie serial streams (a serial-to-network bridge per gateway): bounded frames, connections and rate.
import { createServer, type Server, type Socket } from 'node:net';
import { DecodeError, PayloadTooLargeError, TooManyRequestsError } from '../../errors.ts';
import type { RunningTransport, TransportContext, UplinkOrigin } from '../types.ts';
import { MAX_FRAME_BYTES } from './codec.ts';
import { CookieIngest } from './ingest.ts';
import type { CookiePath } from './downlink.ts';

export interface CookieListenerOptions {
  /** Open connections at most (beyond: dropped, counted `connectionsRefused`). */
  maxConnections?: number;
  /** Open connections per peer address at most. */
  maxConnectionsPerPeer?: number;
  /** Longest frame before its NUL (longer: skipped to the next NUL, counted `oversized`). */
  maxFrameBytes?: number;
  /** Messages per second per peer address, all its connections together (token bucket, burst twice that); beyond: dropped, counted `flood`. */
  messagesPerSecond?: number;
  /** A connection silent this long is closed. */
  idleTimeoutMs?: number;
  /** Shared with the MQTT topics, so shadows and counts are one per hub. */
  ingest?: CookieIngest;
}

export interface CookieListener extends RunningTransport {
  readonly ingest: CookieIngest;
}

const PENDING_HIGH = 64;
const PENDING_LOW = 16;

/** Listens on `port` (0 = ephemeral) at config.host. */
export async function listenCookie(ctx: TransportContext, port: number, options: CookieListenerOptions = {}): Promise<CookieListener> {
  const maxFrame = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  const rate = options.messagesPerSecond ?? 200;
  const perPeer = options.maxConnectionsPerPeer ?? 8;
  const ingest = options.ingest ?? new CookieIngest(ctx);
  const counters = { connections: 0, connectionsTotal: 0, connectionsRefused: 0, frames: 0, oversized: 0, truncated: 0, flood: 0, idleClosed: 0 };
  const byPeer = new Map<string, number>();
  /** One token bucket per peer address (its connections share it), dropped with the peer's last connection. */
  const buckets = new Map<string, { tokens: number; at: number }>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    const peer = socket.remoteAddress ?? '?';
    if ((byPeer.get(peer) ?? 0) >= perPeer) {
      counters.connectionsRefused += 1;
      socket.destroy();
      return;
    }
    byPeer.set(peer, (byPeer.get(peer) ?? 0) + 1);
    if (!buckets.has(peer)) buckets.set(peer, { tokens: rate * 2, at: Date.now() });
    const bucket = buckets.get(peer)!;
    sockets.add(socket);
    counters.connections += 1;
    counters.connectionsTotal += 1;
    const remote = `${peer}:${socket.remotePort}`;
    const originOf = (): UplinkOrigin => ({ binding: 'cookie', transport: 'tcp', receivedAt: Date.now(), remote });
    let gateway: string | undefined;
    let parts: Buffer[] = [];
    let length = 0;
    let skipping = false;
    let pending = 0;
    let chain: Promise<unknown> = Promise.resolve();
    // The way back to this connection's sender (configuration messages: hub/bindings/cookie/downlink.ts).
    const path: CookiePath = { kind: 'tcp', remote, write: (line) => socket.write(line), closed: () => socket.destroyed || !socket.writable };

    const take = (): boolean => {
      const now = Date.now();
      bucket.tokens = Math.min(rate * 2, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    };
    const frame = (bytes: Buffer): void => {
      counters.frames += 1;
      const origin = originOf();
      if (!take()) {
        counters.flood += 1;
        ingest.counters.messages += 1;
        ingest.rejected(new TooManyRequestsError(`More than ${rate} Cookie messages/s from ${peer}`, 1, {}, 'cookie-flood'), origin);
        return;
      }
      pending += 1;
      if (pending >= PENDING_HIGH) socket.pause();
      chain = chain.then(async () => {
        const { message } = await ingest.handle('serial', bytes, origin, gateway, path);
        // A gateway names itself with its map: later messages on the connection came through it.
        if (message?.type === 'gateway-map' && gateway === undefined) gateway = message.device;
        pending -= 1;
        if (pending <= PENDING_LOW && socket.isPaused()) socket.resume();
      });
    };

    socket.setTimeout(options.idleTimeoutMs ?? 300_000, () => {
      counters.idleClosed += 1;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nul = chunk.indexOf(0, start); ; nul = chunk.indexOf(0, start)) {
        const end = nul < 0 ? chunk.length : nul;
        if (!skipping) {
          if (length + end - start > maxFrame) {
            counters.oversized += 1;
            ingest.counters.messages += 1;
            ingest.rejected(new PayloadTooLargeError(`A Cookie frame over ${maxFrame} bytes before its NUL`, { extensions: { field: 'message', offset: maxFrame } }), originOf());
            skipping = true;
            parts = [];
            length = 0;
          } else if (end > start) {
            parts.push(chunk.subarray(start, end));
            length += end - start;
          }
        }
        if (nul < 0) break;
        if (!skipping && length > 0) frame(Buffer.concat(parts, length));
        skipping = false;
        parts = [];
        length = 0;
        start = nul + 1;
      }
    });
    socket.on('end', () => {
      if (length > 0 && !skipping) {
        counters.truncated += 1;
        ingest.counters.messages += 1;
        ingest.rejected(new DecodeError(`The stream ended inside a frame (${length} bytes without NUL)`, { field: 'message', offset: length }, 'cookie-truncated'), originOf());
      }
      parts = [];
      length = 0;
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      counters.connections -= 1;
      const n = (byPeer.get(peer) ?? 1) - 1;
      if (n <= 0) {
        byPeer.delete(peer);
        buckets.delete(peer);
      }
      else byPeer.set(peer, n);
    });
  });
  server.maxConnections = options.maxConnections ?? 64;
  server.on('drop', () => {
    counters.connectionsRefused += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as { address: string; port: number };
  return {
    name: 'cookie',
    address: { host: addr.address, port: addr.port },
    ingest,
    stats: () => ({ ...counters, ...Object.fromEntries(Object.entries(ingest.stats()).map(([k, v]) => [`ingest.${k}`, v])) }),
    async stop() {
      ingest.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
