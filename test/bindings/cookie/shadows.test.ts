// Cookie shadows: device keys per sensor, composite messages split per sensor, the gateway map and the gateway's Thing
// updates, vehicle classes, message ids; the road simulator's plan (ground truth); the gateway TM passes the TD playground.
import { describe, expect, it } from 'vitest';
import { decodeSerial } from '../../../hub/bindings/cookie/codec.ts';
import { CookieShadows, cookieKey, isVehicleClass, timeOf } from '../../../hub/bindings/cookie/shadows.ts';
import { routeTopic } from '../../../hub/bindings/mqtt/topics.ts';
import { planRoad } from '../../../hub/simulators/cookie-road.ts';
import { startTestHub } from '../../helpers/hub.ts';
import { failures, playgroundValidate } from '../../directory/playground.ts';

describe('frames of the shadows', () => {
  it('the control sensor is the device itself; other sensors are device/sensor', () => {
    expect(cookieKey('madrid-1', 1)).toBe('madrid-1');
    expect(cookieKey('madrid-1', 2)).toBe('madrid-1/2');
    const [f] = new CookieShadows().framesOf(decodeSerial('madrid-1:2:bt-detection:data:7#2024-05-01T08\\:00\\:00Z:AA\\:BB:200408:-67'), { receivedAt: 5 });
    expect(f).toMatchObject({
      protocol: 'cookie', keyType: 'cookieDevice', deviceKey: 'madrid-1/2', sequence: 7, observedAt: '2024-05-01T08:00:00Z',
      messageId: `madrid-1.2.bt-detection.data.7.${Date.parse('2024-05-01T08:00:00Z')}`,
      decoded: { mac: 'AA:BB', rssi: -67, vehicle: true, detections: 1, lastDetection: { time: '2024-05-01T08:00:00Z', mac: 'AA:BB', diac: '200408', rssi: -67 } },
      network: { device: 'madrid-1', sensor: 2, type: 'bt-detection', action: 'data', seq: 7 },
    });
  });

  it('a composite message becomes one frame per sensor group, routed to each shadow', () => {
    const m = decodeSerial('madrid-1:*:composite:data:9#{2:bt-detection:1714550460:AA:200408:-70}:{3:radar-count:1714550460:1:{55}}:{1:device-status:87.5}');
    const frames = new CookieShadows().framesOf(m, { receivedAt: 0 });
    expect(frames.map((f) => [f.deviceKey, f.network!.type, f.network!.compositeGroup, f.observedAt])).toEqual([
      ['madrid-1/2', 'bt-detection', 0, '2024-05-01T08:01:00.000Z'],
      ['madrid-1/3', 'radar-count', 1, '2024-05-01T08:01:00.000Z'],
      ['madrid-1', 'device-status', 2, undefined],
    ]);
    expect(new Set(frames.map((f) => f.messageId)).size).toBe(3);
  });

  it('the gateway map names the interface of each device; the gateway Thing hears of its devices at most once a second', () => {
    const s = new CookieShadows();
    const [map] = s.framesOf(decodeSerial('gw-1:1:gateway-map:data:0#{{uart0:{madrid-1}}:{ble0:{madrid-2:madrid-3}}}'), { gateway: 'gw-1', receivedAt: 1000 });
    expect(map).toMatchObject({ deviceKey: 'gw-1', decoded: { gatewayMap: { uart0: ['madrid-1'], ble0: ['madrid-2', 'madrid-3'] } } });
    s.announced('gw-1');
    const status = (device: string, seq: number, at: number) => s.framesOf(decodeSerial(`${device}:1:device-status:data:${seq}#50`), { gateway: 'gw-1', receivedAt: at });
    const first = status('madrid-2', 1, 2000);
    expect(first.map((f) => [f.deviceKey, f.network!.interface])).toEqual([['madrid-2', 'ble0'], ['gw-1', undefined]]);
    expect(first[1]!.decoded).toMatchObject({ devicesHeard: 1, devices: [{ device: 'madrid-2', interface: 'ble0', messages: 1, lastSeen: '1970-01-01T00:00:02.000Z' }] });
    expect(status('madrid-2', 2, 2500)).toHaveLength(1); // throttled
    expect(s.dirtyGateways()).toEqual(['gw-1']);
    expect(s.flushGateway('gw-1', 2600)!.decoded).toMatchObject({ devices: [{ device: 'madrid-2', messages: 2 }] });
    expect(s.flushGateway('gw-1', 2700)).toBeUndefined();
    const unmapped = status('madrid-9', 1, 2800); // a device the map does not name: no interface, but heard (at once: new)
    expect(unmapped.map((f) => f.network!.interface)).toEqual([undefined, undefined]);
    expect(unmapped[1]!.decoded).toMatchObject({ devicesHeard: 2 });
  });

  it('vehicle classes (hands-free 0x200408, car audio 0x240420) and times', () => {
    expect(['200408', '240420', '5A020C', '240404', 'zz', 7].map(isVehicleClass)).toEqual([true, true, false, false, undefined, undefined]);
    expect(timeOf(1714550460)).toBe('2024-05-01T08:01:00.000Z');
    expect(timeOf('2024-05-01T08:00:00Z')).toBe('2024-05-01T08:00:00Z');
    expect(timeOf('soon')).toBeUndefined();
  });

  it('MQTT topics: cookie/{gatewayId}/up and /json; other shapes are plain pub/sub', () => {
    expect(routeTopic('cookie/gw-1/up')).toEqual({ kind: 'cookie', gatewayId: 'gw-1', form: 'up' });
    expect(routeTopic('cookie/gw-1/json')).toEqual({ kind: 'cookie', gatewayId: 'gw-1', form: 'json' });
    for (const t of ['cookie/gw 1/up', 'cookie//up', 'cookie/gw-1/down', 'cookie/gw-1/up/x']) expect(routeTopic(t).kind).toBe('other');
  });
});

describe('the road simulator', () => {
  it('is deterministic, with cars passing both nodes at their ground-truth travel time', () => {
    const plan = planRoad({ cars: 10, seed: 2, lengthM: 900 });
    expect(planRoad({ cars: 10, seed: 2, lengthM: 900 })).toEqual(plan);
    expect(plan.cars).toHaveLength(10);
    for (const c of plan.cars) {
      expect(c.travelTimeS).toBeCloseTo(900 / (c.speedKmh / 3.6), 2);
      expect(c.atDestinationMs - c.atOriginMs).toBe(c.travelTimeS * 1000);
      expect(isVehicleClass(c.diac)).toBe(true);
    }
    const bt = plan.messages.filter((m) => m.message.type === 'bt-detection');
    expect(new Set(bt.filter((m) => m.message.device === 'road-a').map((m) => (m.message.payload as { mac: string }).mac))).toEqual(
      new Set([...plan.cars.map((c) => c.mac), ...bt.filter((m) => m.message.device === 'road-a' && !isVehicleClass((m.message.payload as { diac: string }).diac)).map((m) => (m.message.payload as { mac: string }).mac)]),
    );
    const counts = plan.messages.filter((m) => m.message.type === 'radar-count' && m.message.device === 'road-b');
    expect(counts.reduce((s, m) => s + ((m.message.payload as { count: number }).count), 0)).toBe(10);
  });
});

const PLACEHOLDERS = { TITLE: 'Gateway', MAPPING: 'cookie-uplink', ADAPTER_ID: 'urn:wot-hub:adapter:cookie', COOKIE_DEVICE: 'cookie-7' };

describe('the cookie-gateway Thing Model', () => {
  it('instantiates into a TD that passes the TD playground (offline)', async () => {
    const hub = await startTestHub();
    try {
      const res = await hub.app.inject({ method: 'POST', url: '/thing-models/cookie-gateway/instantiate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ placeholders: PLACEHOLDERS }) });
      expect(res.statusCode, res.body).toBe(200);
      const td = res.json();
      expect(td['hub:ioAdapterDefinitions'][0].deviceDefinitions).toMatchObject({ keyType: 'cookieDevice', deviceKey: 'cookie-7' });
      const result = await playgroundValidate(td);
      expect(failures(result), result.log.join('\n')).toEqual([]);
    } finally {
      await hub.stop();
    }
  });
});
