// ELM327 session against the vehicle simulator over real TCP: init, supported PIDs, schedule, several ECUs, NO DATA,
// DTC appearing, multi-frame VIN, GPS alignment; headers/spaces both ways; reconnect after the simulator restarts.
import { afterEach, describe, expect, it } from 'vitest';
import type { VehicleConfig } from '../../../hub/bindings/obd/config.ts';
import { Elm327Session } from '../../../hub/bindings/obd/session.ts';
import type { DeviceFrame } from '../../../hub/bindings/types.ts';
import { startVehicleSimulator, type VehicleSimulator } from '../../../hub/simulators/vehicle.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 25))) if (Date.now() > end) throw new Error('timed out');
};

function configOf(sim: VehicleSimulator, extra: Partial<VehicleConfig> = {}): VehicleConfig {
  return {
    thingId: 'urn:dev:vehicle:1', vin: sim.vin, host: sim.host, port: sim.port, headers: true, spaces: false,
    gps: sim.gpsPort ? { host: sim.host, port: sim.gpsPort } : undefined,
    schedule: [{ pids: [0x0d, 0x0c, 0x05, 0x5c, 0x2f], intervalMs: 150 }], dtcIntervalMs: 150, timeoutMs: 1000, ...extra,
  };
}

async function run(sim: VehicleSimulator, extra: Partial<VehicleConfig> = {}) {
  const frames: DeviceFrame[] = [];
  const session = new Elm327Session(configOf(sim, extra), { onFrame: async (f) => void frames.push(f), backoffMs: { min: 50, max: 400 } });
  session.start();
  cleanup.push(() => session.stop());
  return { session, frames };
}

describe('Elm327Session x vehicle simulator', () => {
  for (const [headers, spaces] of [[true, false], [false, true], [true, true], [false, false]] as const) {
    it(`polls the schedule (ATH${+headers} ATS${+spaces}): values, NO DATA left out, DTC appears, located`, async () => {
      const sim = await startVehicleSimulator({ dtcAfterMs: 400, gpsIntervalMs: 100 });
      cleanup.push(() => sim.stop());
      const { session, frames } = await run(sim, { headers, spaces });
      await until(() => frames.some((f) => (f.decoded!.dtcs as string[] | undefined)?.length) && frames.some((f) => f.location));
      expect(session.vin).toBe(sim.vin);
      expect([...session.supported]).toEqual(expect.arrayContaining([0x04, 0x05, 0x0c, 0x0d, 0x2f, 0x5c, 0x5e]));
      expect(sim.requests.get('ATH' + (headers ? 1 : 0))).toBe(1);
      expect(sim.requests.get('ATS' + (spaces ? 1 : 0))).toBe(1);
      for (const f of frames) {
        expect(f).toMatchObject({ protocol: 'obd', keyType: 'vin', deviceKey: sim.vin });
        expect(f.messageId).toMatch(new RegExp(`^${sim.vin}-\\d+$`));
        expect(Object.keys(f.decoded!)).not.toContain('oilTemperature'); // 5C: supported, answered NO DATA
        expect(f.decoded!.speed).toBeGreaterThanOrEqual(0);
        expect(f.decoded!.rpm).toBeGreaterThan(700);
        expect(f.decoded!.coolantTemperature).toBeGreaterThanOrEqual(20);
      }
      expect(session.stats().noData).toBeGreaterThan(0);
      expect(session.stats().invalidFrames).toBe(0);
      expect(frames.find((f) => (f.decoded!.dtcs as string[] | undefined)?.length)!.decoded!.dtcs).toEqual(['P0133']);
      const located = frames.find((f) => f.location)!;
      expect(located.location!.latitude).toBeCloseTo(48.1173, 2);
      expect(located.location!.longitude).toBeCloseTo(11.5167, 2);
    });
  }

  it('one request in flight: each request waits for the previous prompt', async () => {
    const sim = await startVehicleSimulator({ gpsPort: -1 });
    cleanup.push(() => sim.stop());
    const { session, frames } = await run(sim);
    await until(() => frames.length >= 3);
    expect(session.stats().timeouts).toBe(0);
    expect(frames.every((f) => !f.location)).toBe(true);
  });

  it('reconnects with backoff after the adapter is lost, and resumes polling', async () => {
    let sim = await startVehicleSimulator({ gpsPort: -1 });
    const port = sim.port;
    cleanup.push(() => sim.stop());
    const { session, frames } = await run(sim);
    await until(() => frames.length >= 2);
    await sim.stop();
    await until(() => session.state === 'backoff' || session.state === 'connecting');
    await new Promise((r) => setTimeout(r, 300));
    const before = frames.length;
    sim = await startVehicleSimulator({ port, gpsPort: -1 });
    await until(() => frames.length >= before + 2, 8000);
    expect(session.stats().connects).toBeGreaterThanOrEqual(2);
    expect(session.stats().disconnects).toBeGreaterThanOrEqual(1);
  });

  it('times out an adapter that never prompts and reconnects', async () => {
    const { createServer } = await import('node:net');
    const muted = new Set<import('node:net').Socket>();
    const mute = createServer((s) => { muted.add(s); s.on('data', () => {}); s.on('close', () => muted.delete(s)); });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => mute.close(() => r())));
    const port = (mute.address() as { port: number }).port;
    const frames: DeviceFrame[] = [];
    const session = new Elm327Session({ ...configOf({ host: '127.0.0.1', port, vin: '1D4GP00R55B123456' } as VehicleSimulator), timeoutMs: 200 }, { onFrame: async (f) => void frames.push(f), backoffMs: { min: 50, max: 100 } });
    session.start();
    cleanup.push(async () => {
      await session.stop();
      for (const s of muted) s.destroy();
    });
    await until(() => session.stats().timeouts >= 2, 8000);
    expect(frames).toHaveLength(0);
  });
});
