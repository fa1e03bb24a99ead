// Vehicle simulator (hand-rolled): an ELM327 adapter over TCP (AT commands, headers/spaces/echo honoured, two ECUs,
// ISO-TP multi-frame VIN) driving a realistic trip, plus its GPS as NMEA RMC/GGA on a second TCP port.
//
// The drive: speed follows accelerate / cruise / brake phases, rpm follows speed through a gearbox, the coolant warms
// up from ambient, a DTC (P0133) is pending (mode 07) from `dtcAfterMs`/2 and stored (mode 03) from `dtcAfterMs`, and oil temperature (PID 5C) is advertised as supported
// but the engine ECU answers NO DATA for it. The transmission ECU (7E9) answers 0100 and 010D too (several ECUs).
// Mode 04 clears the DTCs (both ECUs acknowledge with 44); the fault is still there, so they come back as pending and
// then stored on the same schedule, counted from the clear.
import { createServer, type Server, type Socket } from 'node:net';
import { nmeaChecksum } from '../bindings/obd/gps.ts';

export interface VehicleSimulatorOptions {
  host?: string;
  /** ELM327 port (0 = ephemeral; real WiFi adapters listen on 35000). */
  port?: number;
  /** NMEA port (0 = ephemeral; -1 = no GPS). */
  gpsPort?: number;
  vin?: string;
  /** Time factor of the drive (2 = twice as fast). */
  speedup?: number;
  dtcAfterMs?: number;
  /** NMEA sentences (RMC + GGA) every this many ms. */
  gpsIntervalMs?: number;
  start?: { latitude: number; longitude: number };
  /** Clock (epoch ms) for the drive and the NMEA times. */
  now?: () => number;
  /** Faults: every Nth mode 01 reply also carries a garbage line and a truncated frame (0 = never, the default). */
  garbageEvery?: number;
}

export interface VehicleSimulator {
  host: string;
  port: number;
  gpsPort?: number;
  vin: string;
  /** The drive's state now (what the next replies say). */
  state(): DriveState;
  /** Requests answered, by command. */
  requests: Map<string, number>;
  /** A misbehaving adapter: writes `bytes` of hex lines with no prompt to every ELM327 client. */
  flood(bytes: number): void;
  /** Drops every client connection (the adapter lost its WiFi); the listeners stay up. */
  dropClients(): void;
  /** The next request `cmd` (e.g. `04`) is answered with these lines (e.g. `['CAN ERROR']`) instead. */
  answerNext(cmd: string, lines: string[]): void;
  /** The next request `cmd` gets no answer at all (no prompt: the client's timeout). */
  ignoreNext(cmd: string): void;
  /** Mode 04 requests that cleared the DTCs. */
  clears: number;
  stop(): Promise<void>;
}

export interface DriveState {
  speed: number;
  rpm: number;
  coolant: number;
  load: number;
  fuel: number;
  runTime: number;
  latitude: number;
  longitude: number;
  dtcs: string[];
  pendingDtcs: string[];
}

/** PIDs the engine ECU advertises (0100/0120/0140): 04 05 0C 0D 0F 10 11 1F 20 21 2F 31 40 42 46 5C 5E. */
const SUPPORTED = [0x04, 0x05, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x1f, 0x20, 0x21, 0x2f, 0x31, 0x40, 0x42, 0x46, 0x5c, 0x5e];
const IGNORE = '\u0000ignore';
const hex2 = (n: number): string => (n & 0xff).toString(16).toUpperCase().padStart(2, '0');

function bitmap(base: number, pids: number[]): number[] {
  const out = [0, 0, 0, 0];
  for (const p of pids) if (p > base && p <= base + 32) out[(p - base - 1) >> 3]! |= 0x80 >> ((p - base - 1) & 7);
  return out;
}

export async function startVehicleSimulator(options: VehicleSimulatorOptions = {}): Promise<VehicleSimulator> {
  const host = options.host ?? '127.0.0.1';
  const vin = options.vin ?? '1D4GP00R55B123456';
  const now = options.now ?? Date.now;
  const t0 = now();
  const speedup = options.speedup ?? 1;
  const dtcAfter = options.dtcAfterMs ?? 20_000;
  const origin = options.start ?? { latitude: 48.1173, longitude: 11.5167 };
  const requests = new Map<string, number>();
  let distanceM = 0;
  let dataReplies = 0;
  const elmClients = new Set<Socket>();
  let lastT = 0;
  /** Where the DTC schedule counts from: the start, then the last mode 04. */
  let faultFrom = t0;
  const overrides = new Map<string, string[]>();
  const sim = { clears: 0 };

  const state = (): DriveState => {
    const t = ((now() - t0) * speedup) / 1000; // seconds of drive
    // 60 s cycle: 0-15 s accelerate to 90 km/h, 15-40 cruise (with a wave), 40-52 brake, 52-60 stand.
    const c = t % 60;
    const speed = c < 15 ? (c / 15) * 90 : c < 40 ? 90 + 8 * Math.sin(c / 3) : c < 52 ? 90 * (1 - (c - 40) / 12) : 0;
    const gear = speed < 15 ? 1 : speed < 30 ? 2 : speed < 50 ? 3 : speed < 70 ? 4 : 5;
    const rpm = speed < 1 ? 780 : 900 + (speed * [0, 95, 60, 42, 33, 27][gear]!);
    const coolant = 20 + 70 * (1 - Math.exp(-t / 90));
    if (t > lastT) {
      distanceM += (speed / 3.6) * (t - lastT);
      lastT = t;
    }
    // Heading north-east along a straight road: 1 deg latitude ~ 111.2 km.
    const latitude = origin.latitude + (distanceM * Math.SQRT1_2) / 111_200;
    const longitude = origin.longitude + (distanceM * Math.SQRT1_2) / (111_200 * Math.cos((origin.latitude * Math.PI) / 180));
    return {
      speed: Math.round(speed),
      rpm: Math.round(rpm * 4) / 4,
      coolant: Math.round(coolant),
      load: Math.min(100, 20 + speed / 2),
      fuel: Math.max(0, 80 - t / 60),
      runTime: Math.floor(t),
      latitude,
      longitude,
      dtcs: (now() - faultFrom) * speedup >= dtcAfter ? ['P0133'] : [],
      // Pending (mode 07) for the second half of the time before it is stored (mode 03).
      pendingDtcs: (now() - faultFrom) * speedup >= dtcAfter / 2 && (now() - faultFrom) * speedup < dtcAfter ? ['P0133'] : [],
    };
  };

  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const listen = (srv: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve((srv.address() as { port: number }).port));
    });

  const elm = createServer((socket) => {
    sockets.add(socket);
    elmClients.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      elmClients.delete(socket);
    });
    socket.on('error', () => {});
    const s = { echo: true, linefeeds: true, spaces: true, headers: false, searched: false };
    let buf = '';
    const write = (lines: string[]): void => {
      const eol = s.linefeeds ? '\r\n' : '\r';
      socket.write(`${lines.join(eol)}${eol}${eol}>`);
    };
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      if (buf.length > 1024) return void socket.destroy();
      let i: number;
      while ((i = buf.indexOf('\r')) >= 0) {
        const raw = buf.slice(0, i).replace(/\n/g, '');
        buf = buf.slice(i + 1);
        const cmd = raw.replace(/\s/g, '').toUpperCase();
        if (cmd === '') continue;
        requests.set(cmd, (requests.get(cmd) ?? 0) + 1);
        const out: string[] = s.echo ? [raw] : [];
        const forced = overrides.get(cmd);
        overrides.delete(cmd);
        if (forced?.length === 1 && forced[0] === IGNORE) continue;
        out.push(...(forced ?? answer(cmd, s)));
        write(out);
      }
    });
  });

  /** Formats one ECU frame (CAN 11-bit): `7E8 03 41 0D 32`, headers and spaces as set. */
  const frame = (s: { spaces: boolean; headers: boolean }, ecu: string, bytes: number[], pci = true): string => {
    const body = (s.headers ? [ecu, ...(pci ? [hex2(bytes.length)] : []), ...bytes.map(hex2)] : bytes.map(hex2));
    return body.join(s.spaces ? ' ' : '');
  };
  /** A multi-frame message from one ECU: `10 LL ...`, `21 ...` with headers; `0LL`, `0: ...`, `1: ...` without. */
  const multi = (s: { spaces: boolean; headers: boolean }, ecu: string, bytes: number[]): string[] => {
    const sp = s.spaces ? ' ' : '';
    if (s.headers) {
      const lines = [[ecu, '1' + hex2(bytes.length >> 8).slice(1), hex2(bytes.length), ...bytes.slice(0, 6).map(hex2)].join(sp)];
      for (let off = 6, seq = 1; off < bytes.length; off += 7, seq = (seq + 1) & 0x0f) lines.push([ecu, hex2(0x20 | seq), ...bytes.slice(off, off + 7).map(hex2)].join(sp));
      return lines;
    }
    const lines = [bytes.length.toString(16).toUpperCase().padStart(3, '0')];
    for (let off = 0, n = 0; off < bytes.length; off += 7, n = (n + 1) & 0x0f) lines.push(`${n.toString(16).toUpperCase()}:${sp}${bytes.slice(off, off + 7).map(hex2).join(sp)}`);
    return lines;
  };

  const answer = (cmd: string, s: { echo: boolean; linefeeds: boolean; spaces: boolean; headers: boolean; searched: boolean }): string[] => {
    if (cmd.startsWith('AT')) {
      const at = cmd.slice(2);
      if (at === 'Z') {
        Object.assign(s, { echo: true, linefeeds: true, spaces: true, headers: false, searched: false });
        return ['', 'ELM327 v1.5'];
      }
      if (at === 'I') return ['ELM327 v1.5'];
      if (at === 'RV') return ['12.8V'];
      const flag = /^(E|L|S|H)([01])$/.exec(at);
      if (flag) {
        const v = flag[2] === '1';
        if (flag[1] === 'E') s.echo = v;
        else if (flag[1] === 'L') s.linefeeds = v;
        else if (flag[1] === 'S') s.spaces = v;
        else s.headers = v;
        return ['OK'];
      }
      if (/^SP[0-9A-C]$/.test(at) || /^(D|ST[0-9A-F]{2}|AT[012]|CAF[01])$/.test(at)) {
        s.searched = false;
        return ['OK'];
      }
      return ['?'];
    }
    if (!/^[0-9A-F]{2,}$/.test(cmd) || cmd.length % 2) return ['?'];
    const pre = s.searched ? [] : ['SEARCHING...'];
    s.searched = true;
    const d = state();
    const mode = cmd.slice(0, 2);
    const pid = parseInt(cmd.slice(2, 4) || '0', 16);
    if (mode === '01') {
      if ([0x00, 0x20, 0x40, 0x60].includes(pid)) {
        if (pid === 0x60) return [...pre, 'NO DATA'];
        const lines = [frame(s, '7E8', [0x41, pid, ...bitmap(pid, SUPPORTED)])];
        if (pid === 0x00) lines.push(frame(s, '7E9', [0x41, 0x00, ...bitmap(0, [0x0d, 0x0f])]));
        return [...pre, ...lines];
      }
      const v = mode01(pid, d);
      if (!v) return [...pre, 'NO DATA'];
      const lines = [frame(s, '7E8', [0x41, pid, ...v])];
      if (pid === 0x0d) lines.push(frame(s, '7E9', [0x41, pid, ...v]));
      if (options.garbageEvery && ++dataReplies % options.garbageEvery === 0) {
        // Line noise and a frame cut short (PCI says 6 bytes, 2 follow), from a third ECU id so the others still decode.
        lines.push('#%~GARBAGE~%#', s.headers ? `7EA${s.spaces ? ' ' : ''}06${s.spaces ? ' ' : ''}41` : '41');
      }
      return [...pre, ...lines];
    }
    if (mode === '03' || mode === '07') {
      const codes = mode === '03' ? d.dtcs : d.pendingDtcs;
      const bytes = [mode === '03' ? 0x43 : 0x47, codes.length, ...codes.flatMap(dtcBytes)];
      return [...pre, frame(s, '7E8', bytes)];
    }
    if (mode === '04' && cmd.length === 2) {
      // Clear diagnostic information: every emission-related ECU acknowledges.
      faultFrom = now();
      sim.clears += 1;
      return [...pre, frame(s, '7E8', [0x44]), frame(s, '7E9', [0x44])];
    }
    if (mode === '09' && pid === 0x02) return [...pre, ...multi(s, '7E8', [0x49, 0x02, 0x01, ...[...vin].map((ch) => ch.charCodeAt(0))])];
    return [...pre, 'NO DATA'];
  };

  const port = await listen(elm, options.port ?? 0);
  servers.push(elm);

  let gpsPort: number | undefined;
  let gpsTimer: NodeJS.Timeout | undefined;
  if ((options.gpsPort ?? 0) >= 0) {
    const gpsClients = new Set<Socket>();
    const gps = createServer((socket) => {
      sockets.add(socket);
      gpsClients.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        gpsClients.delete(socket);
      });
      socket.on('error', () => {});
      socket.on('data', () => {}); // a GPS does not listen
    });
    gpsPort = await listen(gps, options.gpsPort ?? 0);
    servers.push(gps);
    gpsTimer = setInterval(() => {
      if (gpsClients.size === 0) return;
      const text = nmeaFix(new Date(now()), state());
      for (const c of gpsClients) if (c.writableLength < 65_536) c.write(text);
    }, options.gpsIntervalMs ?? 200);
  }

  return {
    host,
    port,
    gpsPort,
    vin,
    state,
    requests,
    flood(bytes) {
      const line = '7E8 03 41 0D 32\r\n';
      const text = line.repeat(Math.ceil(bytes / line.length));
      for (const c of elmClients) c.write(text);
    },
    dropClients() {
      for (const c of [...elmClients]) c.destroy();
    },
    answerNext(cmd, lines) {
      overrides.set(cmd.replace(/\s/g, '').toUpperCase(), lines);
    },
    ignoreNext(cmd) {
      overrides.set(cmd.replace(/\s/g, '').toUpperCase(), [IGNORE]);
    },
    get clears() {
      return sim.clears;
    },
    async stop() {
      if (gpsTimer) clearInterval(gpsTimer);
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
    },
  };
}

function mode01(pid: number, d: DriveState): number[] | undefined {
  const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
  switch (pid) {
    case 0x04: return [Math.round((d.load * 255) / 100)];
    case 0x05: return [d.coolant + 40];
    case 0x0c: return u16(Math.round(d.rpm * 4));
    case 0x0d: return [Math.min(255, d.speed)];
    case 0x0f: return [25 + 40];
    case 0x10: return u16(Math.round((2 + d.rpm / 200) * 100));
    case 0x11: return [Math.round(((10 + d.load / 2) * 255) / 100)];
    case 0x1f: return u16(Math.min(65535, d.runTime));
    case 0x21: return u16(0);
    case 0x2f: return [Math.round((d.fuel * 255) / 100)];
    case 0x31: return u16(1234);
    case 0x42: return u16(14200);
    case 0x46: return [18 + 40];
    case 0x5e: return u16(Math.round((0.5 + d.speed / 15) * 20));
    default: return undefined; // 5C (oil temperature): advertised, but the ECU answers nothing -> NO DATA
  }
}

function dtcBytes(code: string): number[] {
  const sys = 'PCBU'.indexOf(code[0]!);
  const n = parseInt(code.slice(1), 16);
  return [(sys << 6) | (n >> 8), n & 0xff];
}

const nmeaDeg = (v: number, width: number): string => {
  const a = Math.abs(v);
  const deg = Math.floor(a);
  return `${String(deg).padStart(width, '0')}${((a - deg) * 60).toFixed(4).padStart(7, '0')}`;
};
const sentence = (body: string): string => `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`;

/** RMC + GGA for one fix. */
export function nmeaFix(at: Date, d: Pick<DriveState, 'latitude' | 'longitude' | 'speed'>): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const time = `${p2(at.getUTCHours())}${p2(at.getUTCMinutes())}${p2(at.getUTCSeconds())}.${String(Math.floor(at.getUTCMilliseconds() / 10)).padStart(2, '0')}`;
  const date = `${p2(at.getUTCDate())}${p2(at.getUTCMonth() + 1)}${p2(at.getUTCFullYear() % 100)}`;
  const lat = `${nmeaDeg(d.latitude, 2)},${d.latitude >= 0 ? 'N' : 'S'}`;
  const lon = `${nmeaDeg(d.longitude, 3)},${d.longitude >= 0 ? 'E' : 'W'}`;
  return (
    sentence(`GPRMC,${time},A,${lat},${lon},${(d.speed / 1.852).toFixed(1)},45.0,${date},,,A`) +
    sentence(`GPGGA,${time},${lat},${lon},1,08,0.9,520.0,M,47.0,M,,`)
  );
}

/**
 * A vehicle TD (an obd-vehicle instance) with the simulator named as its ELM327 adapter and GPS, and a poll schedule
 * (the demo's and the benchmark's car): a copy, the input is not changed.
 */
export function withElm327(td: Record<string, unknown>, sim: Pick<VehicleSimulator, 'host' | 'port' | 'gpsPort'>, intervalMs = 1000): Record<string, unknown> {
  const copy = structuredClone(td) as Record<string, unknown> & { 'hub:ioAdapterDefinitions'?: Array<{ deviceDefinitions?: Record<string, unknown> }> };
  const entry = copy['hub:ioAdapterDefinitions']?.find((e) => e.deviceDefinitions?.keyType === 'vin');
  if (!entry?.deviceDefinitions) throw new Error('not a vehicle TD (no vin interface)');
  Object.assign(entry.deviceDefinitions, {
    elm327: { host: sim.host, port: sim.port, headers: true, spaces: false, ...(sim.gpsPort ? { gps: { port: sim.gpsPort } } : {}) },
    pollSchedule: [{ pids: ['0D', '0C', '05', '04', '2F'], intervalMs }, { pids: ['0F', '10', '11', '1F', '42', '46', '5C', '5E'], intervalMs: intervalMs * 5 }],
    dtcIntervalMs: intervalMs * 10,
  });
  return copy;
}
