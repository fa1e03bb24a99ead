// Test helpers for the MQTT transport: a recording UplinkSink, small stand-in codecs, a TransportContext, mosquitto by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type HubConfig } from '../../../hub/config.ts';
import { DecodeError, type HubError } from '../../../hub/errors.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import type { MqttCodecs } from '../../../hub/bindings/mqtt/ingest.ts';
import { canonicalKey, type AcceptResult, type DeviceFrame, type TransportContext, type UplinkOrigin, type UplinkSink } from '../../../hub/bindings/types.ts';

export const ADMIN = 'mqtt-test-admin-token-0123456789';
export const WRITER = 'mqtt-test-writer-token-012345678';
export const READER = 'mqtt-test-reader-token-012345678';

/** An UplinkSink that records frames; `behaviour` decides each answer (default: stored, and duplicate on a repeat). */
export class RecordingSink implements UplinkSink {
  readonly accepted: Array<{ frame: DeviceFrame; origin: UplinkOrigin }> = [];
  readonly rejected: Array<{ error: HubError; origin: UplinkOrigin }> = [];
  readonly seen = new Set<string>();
  delayMs = 0;
  behaviour?: (frame: DeviceFrame, n: number) => AcceptResult | undefined;
  calls = 0;

  async accept(frame: DeviceFrame, origin: UplinkOrigin): Promise<AcceptResult> {
    const n = this.calls++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const forced = this.behaviour?.(frame, n);
    if (forced) return forced;
    const key = `${frame.keyType}|${frame.deviceKey}|${frame.messageId}`;
    if (this.seen.has(key)) return { status: 'duplicate', thingId: 't1' };
    this.seen.add(key);
    this.accepted.push({ frame, origin });
    return { status: 'stored', thingId: 't1', quads: 1 };
  }

  reject(error: HubError, origin: UplinkOrigin): void {
    this.rejected.push({ error, origin });
  }
}

/** Stand-ins for ttsCodec / chirpstackCodec with the NetworkServerCodec contract, for tests that need no real codec. */
export const localCodecs: MqttCodecs = {
  tts: {
    name: 'tts',
    decodeUplink(body: unknown): DeviceFrame {
      const b = body as { end_device_ids?: { dev_eui?: string }; uplink_message?: { f_cnt?: number; decoded_payload?: Record<string, unknown>; received_at?: string } };
      if (typeof b?.end_device_ids?.dev_eui !== 'string') throw new DecodeError('no dev_eui', { field: 'end_device_ids.dev_eui' });
      const up = b.uplink_message ?? {};
      return {
        protocol: 'lorawan',
        keyType: 'devEui',
        deviceKey: canonicalKey('devEui', b.end_device_ids.dev_eui),
        messageId: `${up.f_cnt ?? 0}-${Date.parse(up.received_at ?? '') || 0}`,
        sequence: up.f_cnt ?? 0,
        decoded: up.decoded_payload ?? {},
      };
    },
  },
  chirpstack: {
    name: 'chirpstack',
    decodeUplink(body: unknown): DeviceFrame {
      const b = body as { deviceInfo?: { devEui?: string }; fCnt?: number; deduplicationId?: string; object?: Record<string, unknown> };
      if (typeof b?.deviceInfo?.devEui !== 'string') throw new DecodeError('no devEui', { field: 'deviceInfo.devEui' });
      return {
        protocol: 'lorawan',
        keyType: 'devEui',
        deviceKey: canonicalKey('devEui', b.deviceInfo.devEui),
        messageId: String(b.deduplicationId ?? b.fCnt ?? 0).replace(/[^A-Za-z0-9._~-]/g, ''),
        decoded: b.object ?? {},
      };
    },
  },
};

export interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

/** A TransportContext on loopback with three tokens (admin, write-only, read-only). */
export function makeCtx(sink: UplinkSink, overrides: Record<string, unknown> = {}): TransportContext & { lines: LogLine[] } {
  const config: HubConfig = validateConfig({
    host: '127.0.0.1',
    httpPort: 0,
    coapPort: 0,
    mqttPort: 0,
    packetForwarderPort: 0,
    oscPort: 0,
    dataDir: join(tmpdir(), 'mqtt-test-unused'),
    adminToken: ADMIN,
    tokens: [
      { token: WRITER, scopes: ['write'] },
      { token: READER, scopes: ['read'] },
    ],
    logLevel: 'silent',
    ...overrides,
  });
  const lines: LogLine[] = [];
  const log = {
    info: (obj: object, msg?: string) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj: object, msg?: string) => void lines.push({ level: 'error', obj, msg }),
  };
  return { config, uplinks: sink, auth: new TokenAuth(config, ADMIN), secrets: { secret: () => undefined }, log, lines };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A mosquitto on 127.0.0.1:port with a generated config (anonymous allowed, persistence off); stop() kills it by pid. */
export class Mosquitto {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'mosq-'));
  constructor(readonly port: number, private readonly extra: string[] = []) {}

  async start(): Promise<void> {
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, [`listener ${this.port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_inflight_messages 1000', 'max_queued_messages 100000', ...this.extra, ''].join('\n'));
    const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    // ready when the port accepts connections
    const end = Date.now() + 5000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > end) throw new Error(`mosquitto did not listen: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      process.kill(p.pid!, signal);
    });
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs mosquitto_pub once (QoS 1 by default) and resolves when it exits 0. */
export async function mosquittoPub(port: number, topic: string, message: string, args: string[] = []): Promise<void> {
  const proc = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-s', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  proc.stdin.end(message);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`mosquitto_pub exited ${code}: ${err}`);
}
