// The packet-forwarder UDP listener (Semtech protocol v1/v2): PUSH_DATA -> PUSH_ACK at once, PULL_DATA -> PULL_ACK with
// the gateway's pull address remembered (for PULL_RESP downlinks), TX_ACK read; rxpk entries go to LorawanUplinks.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { join } from 'node:path';
import type { HubError } from '../../errors.ts';
import { SessionState } from '../lorawan/session-state.ts';
import type { DeviceEntry, KeyType, RunningTransport, TransportContext, UplinkOrigin, UplinkSink } from '../types.ts';
import { ackFor, MAX_DATAGRAM_BYTES, parseDatagram, pullResp, readRxpk, readStat, readTxAck, type GatewayStatus } from './protocol.ts';
import type { PacketForwarderDownlinks } from './downlink.ts';
import { LorawanUplinks, type DevAddrDevice, type ResolveDevAddr } from './uplinks.ts';

export interface GatewayInfo {
  gatewayEui: string;
  /** Where PULL_DATA came from: PULL_RESP goes there. */
  pull?: { address: string; port: number; at: number; version: 1 | 2 };
  lastPushAt?: number;
  status?: GatewayStatus;
}

export interface PacketForwarderOptions {
  /** Devices by DevAddr (the pipeline's device index); without it every frame is an unknown device. */
  resolveDevAddr?: ResolveDevAddr;
  dedupWindowMs?: number;
  maxPendingFrames?: number;
  /** Gateways remembered (least recently heard forgotten first). */
  maxGateways?: number;
  /** Session (FCnt) state directory; default <dataDir>/lorawan. */
  sessionDir?: string;
  /** TX_ACKs for the actions issue's downlink states. */
  onTxAck?: (gatewayEui: string, token: Uint8Array, outcome: ReturnType<typeof readTxAck>) => void;
  /** Class A downlinks and OTAA joins (default: the hub's, from the context's `lorawanDownlinks`). */
  downlinks?: PacketForwarderDownlinks;
}

export interface PacketForwarder extends RunningTransport {
  gateways(): ReadonlyMap<string, GatewayInfo>;
  /** Sends a txpk to a gateway's last PULL_DATA address; false when the gateway has not pulled. */
  sendPullResp(gatewayEui: string, token: Uint8Array, txpk: Record<string, unknown>): boolean;
  /** The same, resolving once the datagram is written to the socket (true) or could not be (false). */
  sendPullRespAsync(gatewayEui: string, token: Uint8Array, txpk: Record<string, unknown>): Promise<boolean>;
  /** Where a gateway's last PULL_DATA came from. */
  pullAddress(gatewayEui: string): { address: string; port: number; version: 1 | 2 } | undefined;
}

/** The pipeline's device index when the hub puts one in the context (`devices.lookup(keyType, key)`, DeviceIndex). */
function indexResolver(ctx: TransportContext): ResolveDevAddr | undefined {
  type Lookup = { lookup?(keyType: KeyType, key: string): DeviceEntry | undefined };
  // The hub's uplink pipeline answers lookups itself (UplinkPipeline.lookup); a context may also bring its own index.
  const devices = (ctx as TransportContext & { devices?: Lookup }).devices ?? (ctx.uplinks as UplinkSink & Lookup);
  return typeof devices?.lookup === 'function' ? (devAddr) => devices.lookup!('devAddr', devAddr) : undefined;
}

/** Starts the listener on config.host:config.packetForwarderPort; undefined when the port is 0 (off). */
export async function startPacketForwarder(ctx: TransportContext, options: PacketForwarderOptions = {}): Promise<PacketForwarder | undefined> {
  const port = ctx.config.packetForwarderPort;
  if (!port) return undefined;
  return listenPacketForwarder(ctx, port, options);
}

/** Binds the listener (port 0 = an ephemeral port, for tests) and returns the running transport. */
export async function listenPacketForwarder(ctx: TransportContext, port: number, options: PacketForwarderOptions = {}): Promise<PacketForwarder> {
  const host = ctx.config.host;
  const sessions = new SessionState({
    dir: options.sessionDir ?? join(ctx.config.dataDir, 'lorawan'),
    onError: (e) => ctx.log.warn({ err: e }, 'LoRaWAN session state not written'),
  });
  const downlinks = options.downlinks ?? (ctx as TransportContext & { lorawanDownlinks?: PacketForwarderDownlinks }).lorawanDownlinks;
  const byIndex = options.resolveDevAddr ?? indexResolver(ctx);
  // Joined (OTAA) devices first, then the TDs' DevAddrs (ABP); the MIC tells them apart when both claim one.
  const resolveDevAddr: ResolveDevAddr | undefined = !downlinks ? byIndex : (devAddr) => {
    const joined = downlinks.joinedDevice(devAddr);
    const found = byIndex?.(devAddr);
    if (!joined) return found;
    const rest = found === undefined ? [] : Array.isArray(found) ? (found as readonly DevAddrDevice[]) : [found as DevAddrDevice];
    return [joined, ...rest.filter((d) => d.thingId !== joined.thingId)];
  };
  const uplinks = new LorawanUplinks({
    uplinks: ctx.uplinks,
    secrets: ctx.secrets,
    resolveDevAddr,
    ...(downlinks ? { classA: downlinks } : {}),
    sessions,
    dedupWindowMs: options.dedupWindowMs,
    maxPending: options.maxPendingFrames,
  });
  const maxGateways = options.maxGateways ?? 1000;
  const gateways = new Map<string, GatewayInfo>();
  const counts = { datagrams: 0, oversized: 0, invalid: 0, pushData: 0, pullData: 0, txAck: 0, txAckErrors: 0, stat: 0, ignored: 0, sendErrors: 0 };
  const socket: Socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });

  const gateway = (eui: string): GatewayInfo => {
    let g = gateways.get(eui);
    if (g) gateways.delete(eui);
    else g = { gatewayEui: eui };
    gateways.set(eui, g); // recency order
    if (gateways.size > maxGateways) gateways.delete(gateways.keys().next().value!);
    return g;
  };

  const send = (buf: Buffer, rinfo: { address: string; port: number }) =>
    socket.send(buf, rinfo.port, rinfo.address, (err) => {
      if (err) counts.sendErrors++;
    });

  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    counts.datagrams++;
    const receivedAt = Date.now();
    const origin: UplinkOrigin = { binding: 'semtech-udp', transport: 'udp', receivedAt, remote: `${rinfo.address}:${rinfo.port}` };
    if (msg.length > MAX_DATAGRAM_BYTES) {
      counts.oversized++;
    }
    let d;
    try {
      d = parseDatagram(msg);
    } catch (e) {
      counts.invalid++;
      ctx.uplinks.reject(e as HubError, origin);
      return;
    }
    const ack = ackFor(d);
    if (ack) send(ack, rinfo); // acknowledged before any processing: the window never delays it
    switch (d.type) {
      case 'PUSH_DATA': {
        counts.pushData++;
        const g = gateway(d.gatewayEui!);
        g.lastPushAt = receivedAt;
        if (!d.json) return;
        const status = readStat(d.json);
        if (status) {
          counts.stat++;
          g.status = status;
        }
        const { packets, errors } = readRxpk(d.json, d.gatewayEui!);
        for (const err of errors) {
          counts.invalid++;
          ctx.uplinks.reject(err, origin);
        }
        for (const p of packets) uplinks.receive(p, { ...origin, topic: `gateway/${d.gatewayEui}` });
        return;
      }
      case 'PULL_DATA':
        counts.pullData++;
        gateway(d.gatewayEui!).pull = { address: rinfo.address, port: rinfo.port, at: receivedAt, version: d.version };
        return;
      case 'TX_ACK': {
        counts.txAck++;
        const outcome = readTxAck(d.json);
        if (!outcome.accepted) counts.txAckErrors++;
        options.onTxAck?.(d.gatewayEui!, d.token, outcome);
        downlinks?.txAck(d.gatewayEui!, d.token, outcome);
        return;
      }
      default:
        counts.ignored++; // PUSH_ACK, PULL_ACK, PULL_RESP are server -> gateway
    }
  });
  socket.on('error', (err) => ctx.log.warn({ err }, 'packet-forwarder socket error'));

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const bound = socket.address();
  ctx.log.info({ host: bound.address, port: bound.port }, 'packet forwarder listening (UDP)');
  let stopped = false;

  const forwarder: PacketForwarder = {
    name: 'semtech-udp',
    address: { host: bound.address, port: bound.port },
    stats: () => ({ ...counts, ...uplinks.stats(), gateways: gateways.size, sessions: sessions.size }),
    gateways: () => gateways,
    sendPullResp(gatewayEui, token, txpk) {
      const g = gateways.get(gatewayEui.toUpperCase());
      if (!g?.pull || stopped) return false;
      send(pullResp(g.pull.version, token, txpk), g.pull);
      return true;
    },
    sendPullRespAsync(gatewayEui, token, txpk) {
      const g = gateways.get(gatewayEui.toUpperCase());
      if (!g?.pull || stopped) return Promise.resolve(false);
      const pull = g.pull;
      return new Promise((resolve) =>
        socket.send(pullResp(pull.version, token, txpk), pull.port, pull.address, (err) => {
          if (err) counts.sendErrors++;
          resolve(!err);
        }),
      );
    },
    pullAddress(gatewayEui) {
      const p = gateways.get(gatewayEui.toUpperCase())?.pull;
      return p ? { address: p.address, port: p.port, version: p.version } : undefined;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (downlinks) downlinks.attach(undefined);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await uplinks.drain();
      await sessions.close();
    },
  };
  downlinks?.attach(forwarder);
  return forwarder;
}
