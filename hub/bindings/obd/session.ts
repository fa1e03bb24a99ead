// Hand-rolled ELM327 session over TCP: init, supported PIDs, the TD's poll schedule, one request in flight, timeouts,
// reconnect with backoff; each poll cycle's readings (and the GPS fix nearest them) become one DeviceFrame.
import { connect, type Socket } from 'node:net';
import { DecodeError } from '../../errors.ts';
import type { DeviceFrame } from '../types.ts';
import type { VehicleConfig } from './config.ts';
import { parseElmReply, type ElmReply } from './elm327.ts';
import { GpsTrack } from './gps.ts';
import { BITMAP_PIDS, decodeDtcs, decodeMode01, decodeVin, mode01Request, PIDS } from './pids.ts';

/** Bytes buffered while waiting for a prompt before the adapter is deemed broken (its own buffer holds 512). */
const MAX_BUFFER = 16_384;
const MAX_NMEA_LINE = 256;

export interface SessionOptions {
  /** Called with each poll cycle's frame; awaited, so a slow pipeline slows polling rather than queueing frames. */
  onFrame(frame: DeviceFrame, remote: string): Promise<unknown>;
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Reconnect backoff: first delay, doubled per failure up to max (default 250 ms .. 10 s). */
  backoffMs?: { min: number; max: number };
  now?: () => number;
}

/** One request of an action exchange: what was sent, the raw reply text (before the prompt) and its parse. */
export interface ElmExchange {
  request: string;
  text: string;
  reply: ElmReply;
}

export type SessionState = 'connecting' | 'initialising' | 'polling' | 'backoff' | 'stopped';

class Closed extends Error {}

/** The session to one vehicle's adapter. start() runs until stop(); nothing it meets on the wire throws out of it. */
export class Elm327Session {
  state: SessionState = 'connecting';
  readonly counters = {
    connects: 0, disconnects: 0, requests: 0, timeouts: 0, noData: 0, statuses: 0, invalidFrames: 0, decodeErrors: 0,
    unsupported: 0, frames: 0, vinMismatch: 0, gpsConnects: 0, overflows: 0,
  };
  supported = new Set<number>();
  vin?: string;
  readonly track = new GpsTrack();
  private socket?: Socket;
  private gpsSocket?: Socket;
  private buffer = '';
  private waiter?: { resolve(text: string): void; reject(e: Error): void; timer: NodeJS.Timeout };
  private stopped = false;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve(): void }>();
  private running?: Promise<void>;
  private gpsRunning?: Promise<void>;
  private readonly lastPolled = new Map<number, number>();
  private lastDtc = -Infinity;
  private lastDtcs?: string[];
  private readonly now: () => number;
  /** The ELM327 line: poll requests and action exchanges take it in turn (one request in flight, never interleaved). */
  private line: Promise<unknown> = Promise.resolve();
  /** Connection count at the last completed init: an exchange runs only on the connection it was initialised on. */
  private readyOn = -1;

  constructor(readonly config: VehicleConfig, private readonly options: SessionOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.running ??= this.loop();
    if (this.config.gps) this.gpsRunning ??= this.gpsLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    this.wake();
    this.socket?.destroy();
    this.gpsSocket?.destroy();
    this.waiter?.reject(new Closed('stopped'));
    await Promise.allSettled([this.running, this.gpsRunning]);
  }

  /** Connected and initialised (supported PIDs and VIN read): actions can be exchanged now. */
  get ready(): boolean {
    return this.state === 'polling' && this.readyOn === this.counters.connects && !!this.socket && !this.socket.destroyed;
  }

  /**
   * An action's requests (e.g. `03` then `07`), sent back to back between two poll requests; `onWrite` is called when
   * the first one is written to the adapter. Rejects with `written: false` when the session lost its connection
   * before (nothing was sent), with `written: true` on a timeout or a lost connection after.
   */
  exchange(cmds: readonly string[], onWrite?: () => void): Promise<ElmExchange[]> {
    let written = false;
    return this.exclusive(async () => {
      if (!this.ready) throw Object.assign(new Closed('the ELM327 session is not connected'), { written: false });
      const out: ElmExchange[] = [];
      try {
        for (const cmd of cmds) {
          const text = await this.send(cmd, this.config.timeoutMs, () => {
            if (!written) onWrite?.();
            written = true;
          });
          out.push({ request: cmd, text, reply: this.parse(text, cmd) });
        }
      } catch (e) {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { written });
      }
      return out;
    });
  }

  /** Runs `fn` when the line is free; the next waiter goes when it settles. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.line.then(fn, fn);
    this.line = run.catch(() => {});
    return run;
  }

  stats(): Record<string, number> {
    return { ...this.counters, supportedPids: this.supported.size, gpsFixes: this.track.counters.fixes, gpsInvalid: this.track.counters.invalid };
  }

  private async loop(): Promise<void> {
    const { min, max } = this.options.backoffMs ?? { min: 250, max: 10_000 };
    let delay = min;
    while (!this.stopped) {
      try {
        this.state = 'connecting';
        await this.open();
        this.state = 'initialising';
        await this.exclusive(() => this.init());
        delay = min;
        this.state = 'polling';
        await this.poll();
      } catch (e) {
        if (!this.stopped) this.options.log?.warn({ err: e, vin: this.config.vin, remote: this.remote }, 'ELM327 session lost; reconnecting');
      }
      this.socket?.destroy();
      this.socket = undefined;
      if (this.stopped) break;
      this.state = 'backoff';
      await this.sleep(delay);
      delay = Math.min(max, delay * 2);
    }
  }

  private get remote(): string {
    return `${this.config.host}:${this.config.port}`;
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.config.host, port: this.config.port });
      this.socket = s;
      this.buffer = '';
      s.setNoDelay(true);
      const timer = setTimeout(() => s.destroy(new Error('connect timeout')), this.config.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.counters.connects += 1;
        resolve();
      });
      s.on('data', (chunk) => this.onData(chunk.toString('latin1')));
      s.on('error', () => {}); // close follows
      s.once('close', () => {
        clearTimeout(timer);
        if (this.counters.connects > 0) this.counters.disconnects += 1;
        reject(new Closed('connection closed'));
        // The request in flight ends with the connection (its timer too: a reconnect must not find it still waiting).
        const w = this.socket === s || this.socket === undefined ? this.waiter : undefined;
        if (w) {
          this.waiter = undefined;
          clearTimeout(w.timer);
          w.reject(new Closed('connection closed'));
        }
      });
    });
  }

  private onData(text: string): void {
    this.buffer += text;
    const at = this.buffer.indexOf('>');
    if (at < 0) {
      if (this.buffer.length > MAX_BUFFER) {
        // A flood (or a broken adapter): drop the connection, count it, reconnect with backoff.
        this.counters.overflows += 1;
        this.buffer = '';
        this.socket?.destroy(new Error('reply without prompt exceeds the buffer'));
      }
      return;
    }
    const reply = this.buffer.slice(0, at);
    this.buffer = this.buffer.slice(at + 1);
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(reply);
    }
    if (this.buffer.includes('>')) this.onData('');
  }

  /** Sends one command and resolves with the reply text before the prompt. One at a time (the ELM327 is half-duplex). */
  private send(cmd: string, timeoutMs = this.config.timeoutMs, onWrite?: () => void): Promise<string> {
    if (this.waiter) return Promise.reject(new Error('a request is already in flight'));
    const s = this.socket;
    if (!s || s.destroyed) return Promise.reject(new Closed('not connected'));
    this.counters.requests += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.counters.timeouts += 1;
        reject(new Error(`no prompt within ${timeoutMs} ms after ${cmd}`));
        // An adapter that missed a prompt is out of step: start over.
        s.destroy();
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
      s.write(`${cmd}\r`);
      onWrite?.();
    });
  }

  /** A request's reply, parsed; NMEA lines interleaved in the ELM stream go to the GPS track. */
  private async request(cmd: string, timeoutMs?: number): Promise<ElmReply> {
    return this.parse(await this.send(cmd, timeoutMs), cmd);
  }

  private parse(text: string, cmd: string): ElmReply {
    const lines = text.split(/[\r\n]+/);
    const nmea = lines.filter((l) => l.trimStart().startsWith('$'));
    for (const l of nmea) this.track.push(l, this.now());
    const reply = parseElmReply(nmea.length ? lines.filter((l) => !l.trimStart().startsWith('$')).join('\r') : text, { headers: this.config.headers, request: cmd });
    this.counters.invalidFrames += reply.invalid.length;
    for (const s of reply.statuses) {
      if (s.kind === 'no-data') this.counters.noData += 1;
      else if (s.kind !== 'searching' && s.kind !== 'ok') this.counters.statuses += 1;
    }
    return reply;
  }

  private async init(): Promise<void> {
    await this.send('ATZ', Math.max(this.config.timeoutMs, 2000));
    for (const cmd of ['ATE0', 'ATL0', this.config.spaces ? 'ATS1' : 'ATS0', this.config.headers ? 'ATH1' : 'ATH0', 'ATSP0']) {
      const r = await this.request(cmd);
      if (!r.statuses.some((s) => s.kind === 'ok')) throw new Error(`${cmd} not acknowledged`);
    }
    // Supported PIDs: 0100, then 0120 ... while the last PID of a bitmap says the next bitmap exists. The first request
    // after ATSP0 searches for the protocol (SEARCHING...), which takes the ELM up to a few seconds.
    this.supported = new Set();
    for (const base of BITMAP_PIDS) {
      if (base !== 0 && !this.supported.has(base)) break;
      const reply = await this.request(mode01Request(base), base === 0 ? Math.max(this.config.timeoutMs, 5000) : undefined);
      let any = false;
      for (const m of reply.messages) {
        try {
          const r = decodeMode01(m.data);
          if ('supported' in r && r.pid === base) {
            any = true;
            for (const p of r.supported) this.supported.add(p);
          }
        } catch {
          this.counters.decodeErrors += 1;
        }
      }
      if (!any) {
        if (base === 0) throw new Error(`no supported-PID bitmap (${reply.statuses.map((s) => s.text).join(', ') || 'no reply'})`);
        break;
      }
    }
    const vinReply = await this.request('0902');
    for (const m of vinReply.messages) {
      try {
        this.vin = decodeVin(m.data);
        break;
      } catch {
        // another ECU's or a partial reply
      }
    }
    if (this.vin && this.vin !== this.config.vin) {
      this.counters.vinMismatch += 1;
      this.options.log?.warn({ configured: this.config.vin, reported: this.vin, remote: this.remote }, 'adapter reports another VIN than the TD');
    }
    this.readyOn = this.counters.connects;
    this.options.log?.info({ vin: this.config.vin, supported: this.supported.size, remote: this.remote }, 'ELM327 session ready');
  }

  private async poll(): Promise<void> {
    const tick = Math.min(...this.config.schedule.map((g) => g.intervalMs));
    while (!this.stopped) {
      const start = this.now();
      const due = new Set<number>();
      for (const g of this.config.schedule) {
        for (const pid of g.pids) {
          if (start - (this.lastPolled.get(pid) ?? -Infinity) + tick / 2 < g.intervalMs) continue;
          if (!this.supported.has(pid)) {
            this.counters.unsupported += 1;
            this.lastPolled.set(pid, start);
            continue;
          }
          due.add(pid);
        }
      }
      const decoded: Record<string, unknown> = {};
      for (const pid of due) {
        this.lastPolled.set(pid, start);
        const reply = await this.exclusive(() => this.request(mode01Request(pid)));
        // Several ECUs may answer; the first (lowest CAN id: the engine) that decodes wins.
        for (const m of reply.messages) {
          if (m.data[0] !== 0x41 || m.data[1] !== pid) continue;
          try {
            const r = decodeMode01(m.data);
            if ('value' in r) {
              decoded[r.name] = round(r.value);
              break;
            }
          } catch (e) {
            if (e instanceof DecodeError) this.counters.decodeErrors += 1;
            else throw e;
          }
        }
      }
      if (this.config.dtcIntervalMs > 0 && start - this.lastDtc >= this.config.dtcIntervalMs) {
        this.lastDtc = start;
        const stored = await this.readDtcs('03');
        if (stored) {
          decoded.dtcs = stored;
          decoded.dtcCount = stored.length;
          const before = this.lastDtcs ?? [];
          if (this.lastDtcs === undefined ? stored.length > 0 : stored.join() !== before.join()) {
            // The `dtcsChanged` event: a code appeared or was cleared since the last read.
            decoded.dtcsChanged = { dtcs: stored, added: stored.filter((d) => !before.includes(d)), cleared: before.filter((d) => !stored.includes(d)) };
          }
          this.lastDtcs = stored;
        }
        const pending = await this.readDtcs('07');
        if (pending) decoded.pendingDtcs = pending;
      }
      if (Object.keys(decoded).length > 0) {
        // The VIN the adapter reported (mode 09 PID 02), on every frame so the Thing's live `vin` stays readable.
        if (this.vin) decoded.vin = this.vin;
        await this.emit(start, decoded);
      }
      await this.sleep(Math.max(0, tick - (this.now() - start)));
    }
  }

  /** Mode 03 (stored) or 07 (pending) DTCs of every ECU that answered, sorted; undefined when none answered. */
  private async readDtcs(mode: '03' | '07'): Promise<string[] | undefined> {
    const reply = await this.exclusive(() => this.request(mode));
    const dtcs = new Set<string>();
    let answered = false;
    for (const m of reply.messages) {
      try {
        for (const d of decodeDtcs(m.data).dtcs) dtcs.add(d);
        answered = true;
      } catch {
        this.counters.decodeErrors += 1;
      }
    }
    return answered ? [...dtcs].sort() : undefined;
  }

  private async emit(at: number, decoded: Record<string, unknown>): Promise<void> {
    const fix = this.track.at(at);
    const frame: DeviceFrame = {
      protocol: 'obd',
      keyType: 'vin',
      deviceKey: this.config.vin,
      messageId: `${this.config.vin}-${at}`,
      observedAt: new Date(at).toISOString(),
      decoded,
    };
    if (fix) {
      frame.location = { latitude: fix.latitude, longitude: fix.longitude, source: 'gps' };
      if (fix.altitude !== undefined) frame.location.altitude = fix.altitude;
      decoded.gps = { ...(fix.time ? { time: fix.time } : {}), ...(fix.speedKmh !== undefined ? { speedKmh: round(fix.speedKmh) } : {}), ...(fix.satellites !== undefined ? { satellites: fix.satellites } : {}) };
    }
    this.counters.frames += 1;
    await this.options.onFrame(frame, this.remote);
  }

  /** NMEA from the vehicle's GPS port: line by line into the track, reconnected like the ELM link. */
  private async gpsLoop(): Promise<void> {
    const gps = this.config.gps!;
    const { min, max } = this.options.backoffMs ?? { min: 250, max: 10_000 };
    let delay = min;
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        const s = connect({ host: gps.host, port: gps.port });
        this.gpsSocket = s;
        let pending = '';
        s.on('connect', () => {
          this.counters.gpsConnects += 1;
          delay = min;
        });
        s.on('data', (chunk) => {
          pending += chunk.toString('latin1');
          const lines = pending.split(/\r?\n/);
          pending = lines.pop()!;
          if (pending.length > MAX_NMEA_LINE) pending = '';
          const at = this.now();
          for (const l of lines) if (l.trim()) this.track.push(l, at);
        });
        s.on('error', () => {});
        s.once('close', () => resolve());
      });
      if (this.stopped) break;
      await this.sleep(delay);
      delay = Math.min(max, delay * 2);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { timer: setTimeout(() => {
        this.sleepers.delete(sleeper);
        resolve();
      }, ms), resolve };
      this.sleepers.add(sleeper);
    });
  }

  /** Ends every sleep at once (stop()). */
  private wake(): void {
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }
}

const round = (v: number): number => Math.round(v * 10_000) / 10_000;
