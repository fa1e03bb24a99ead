// `npm run demo`: the hub on its embedded defaults with a simulated fleet, so a new user sees Things with live values
// and observations in SPARQL within seconds. Devices: LoRaWAN sensors through The Things Stack (MQTT, the embedded
// broker), through ChirpStack (HTTP integration), ABP sensors behind a simulated gateway (packet forwarder) and Sigfox
// devices (callbacks), each sending Cayenne LPP readings.
// Settings as for `npm start` (flags, HUB_* variables); the data directory defaults to ./data-demo.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from './config.ts';
import { createHub } from './hub.ts';
import { startFleet, type RunningFleet } from './simulators/fleet-runner.ts';
import { fleet, type SimulatedDevice } from './simulators/formats.ts';
import { startGateway, type AbpDevice, type RunningGateway } from './simulators/packet-forwarder.ts';
import { randomBytes } from 'node:crypto';
import { startVehicleSimulator, withElm327 } from './simulators/vehicle.ts';
import { startCookieRoad, type RunningRoad } from './simulators/cookie-road.ts';
import { startNgimu, type RunningNgimu } from './simulators/ngimu.ts';
import { startRobot, type RunningRobot } from './simulators/robot.ts';
import { mouseRule } from './rules/mouse.ts';
import { travelTimeDefinition, weightedTravelTimeDefinition } from './virtual/road-link.ts';
import { virtualThingId } from './virtual/service.ts';

const ROOT = join(import.meta.dirname, '..');
const env = { HUB_DATA_DIR: './data-demo', ...process.env };
const config = loadConfig({ argv: process.argv.slice(2), env });
const hub = await createHub(config);
await hub.start();
const auth = { authorization: `Bearer ${hub.adminToken}` };
const base = config.baseUrl;
const say = (s = '') => process.stdout.write(`${s}\n`);

async function inject(method: 'PUT' | 'POST', url: string, payload: unknown, contentType: string): Promise<void> {
  const res = await hub.app.inject({ method, url, headers: { ...auth, 'content-type': contentType }, payload: payload as string });
  if (res.statusCode >= 300 && res.statusCode !== 409) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
}

for (const name of ['lorawan-cayenne', 'sigfox-callback']) {
  await inject('PUT', `/mappings/${name}`, readFileSync(join(ROOT, 'mappings', `${name}.ttl`), 'utf8'), 'text/turtle');
}

async function register(model: string, id: string, placeholders: Record<string, unknown>): Promise<void> {
  if (await hub.directory.get(id)) return;
  await inject('POST', `/thing-models/${model}/instantiate?register=true`, { id, placeholders }, 'application/json');
}

const lorawan = (devices: SimulatedDevice[], title: string) =>
  Promise.all(devices.map((d) => register('lorawan-sensor', `urn:dev:eui:${d.devEui.toLowerCase()}`, {
    TITLE: `${title} ${d.name}`, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', DEV_EUI: d.devEui, DEV_ADDR: d.devAddr, FPORT: 2, MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: 'cayenne-lpp',
  })));
const tts = fleet(4, 0x70b3d57ed0001000n);
const chirpstack = fleet(3, 0x70b3d57ed0002000n);
const sigfox = fleet(2, 0x70b3d57ed0003000n).map((d, i) => ({ ...d, sigfoxId: (0xc0de1000 + i + 1).toString(16).toUpperCase() }));
await lorawan(tts, 'TTS sensor');
await lorawan(chirpstack, 'ChirpStack sensor');
// ABP sensors behind a simulated gateway (Semtech UDP packet forwarder): fresh session keys each run (a new ABP
// session, so FCnt state kept from an earlier run does not refuse the restarted counters), bytes in the secret store.
const abp: AbpDevice[] = fleet(3, 0x70b3d57ed0004000n).map((d) => ({ ...d, keys: { nwkSKey: randomBytes(16), appSKey: randomBytes(16) } }));
if (config.packetForwarderPort > 0) {
  await lorawan(abp, 'Gateway sensor');
  for (const d of abp) {
    const id = `urn:dev:eui:${d.devEui.toLowerCase()}`;
    const secret = `demo-abp-${d.devEui.toLowerCase()}`;
    await hub.secrets.put(`${secret}-nwk`, d.keys.nwkSKey);
    await hub.secrets.put(`${secret}-app`, d.keys.appSKey);
    const td = structuredClone((await hub.directory.get(id))!) as { 'hub:ioAdapterDefinitions': Array<{ deviceDefinitions: Record<string, unknown> }> };
    Object.assign(td['hub:ioAdapterDefinitions'][0]!.deviceDefinitions, { nwkSKey: `secret:${secret}-nwk`, appSKey: `secret:${secret}-app` });
    await inject('PUT', `/things/${encodeURIComponent(id)}`, td, 'application/td+json');
  }
}
await Promise.all(sigfox.map((d) => register('sigfox-device', `urn:dev:sigfox:${d.sigfoxId!.toLowerCase()}`, {
  TITLE: `Sigfox sensor ${d.name}`, ADAPTER_ID: 'urn:wot-hub:adapter:sigfox', SIGFOX_ID: d.sigfoxId, MAPPING: 'sigfox-callback', PAYLOAD_CODEC: 'cayenne-lpp',
})));

// A simulated car: an ELM327 over TCP with its GPS (NMEA) on a second port; its TD names both, the OBD transport polls it.
const car = await startVehicleSimulator();
const carId = `urn:dev:vin:${car.vin}`;
await inject('PUT', '/mappings/obd-pid', readFileSync(join(ROOT, 'mappings', 'obd-pid.ttl'), 'utf8'), 'text/turtle');
await register('obd-vehicle', carId, { TITLE: 'Simulated car', ADAPTER_ID: 'urn:wot-hub:adapter:obd', VIN: car.vin, MAPPING: 'obd-pid' });
await inject('PUT', `/things/${encodeURIComponent(carId)}`, withElm327((await hub.directory.get(carId))! as Record<string, unknown>, car), 'application/td+json');

const fleets: RunningFleet[] = [];
const onError = (e: Error) => hub.app.log.warn({ err: e }, 'simulated device: send failed');
if (config.mqttPort > 0) {
  fleets.push(await startFleet({ network: 'tts', transport: 'mqtt', devices: tts, rate: 2, mqttUrl: `mqtt://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.mqttPort}`, token: hub.adminToken, username: 'demo', onError }));
} else {
  fleets.push(await startFleet({ network: 'tts', transport: 'http', devices: tts, rate: 2, hubUrl: base, token: hub.adminToken, onError }));
}
fleets.push(await startFleet({ network: 'chirpstack', transport: 'http', devices: chirpstack, rate: 1.5, hubUrl: base, token: hub.adminToken, onError }));
fleets.push(await startFleet({ network: 'sigfox', transport: 'http', devices: sigfox, rate: 0.5, hubUrl: base, token: hub.adminToken, onError }));
const gateways: RunningGateway[] = [];
if (config.packetForwarderPort > 0) gateways.push(await startGateway({ host: config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host, port: config.packetForwarderPort, gatewayEui: 'AA555A0000000101', devices: abp, rate: 1 }));

// Two Cookie nodes on a road link (BT scanner + radar each, one gateway each), cars passing both: over TCP when
// HUB_COOKIE_PORT is set, else over the embedded broker (cookie/{gatewayId}/up); in real time, looped.
await inject('PUT', '/mappings/cookie-uplink', readFileSync(join(ROOT, 'mappings', 'cookie-uplink.ttl'), 'utf8'), 'text/turtle');
const cookieModels: Array<[string, string]> = [['cookie-node', ''], ['cookie-bt-scanner', ':bt'], ['cookie-radar', ':radar']];
for (const node of ['road-a', 'road-b']) {
  for (const [model, suffix] of cookieModels) await register(model, `urn:dev:cookie:${node}${suffix}`, { TITLE: `Cookie ${node}${suffix}`, ADAPTER_ID: 'urn:wot-hub:adapter:cookie', COOKIE_DEVICE: node, MAPPING: 'cookie-uplink' });
  await register('cookie-gateway', `urn:dev:cookie:gw-${node}`, { TITLE: `Cookie gateway gw-${node}`, ADAPTER_ID: 'urn:wot-hub:adapter:cookie', COOKIE_DEVICE: `gw-${node}`, MAPPING: 'cookie-uplink' });
}
// The Cookie paper's virtual sensors of that link (hub/virtual): travel time from the BT pairs (15 valid pairs in a
// 15 min window, so the first value comes after about 15 cars) and the weighted travel time fused with road-a's radar.
const roadLink = { link: 'road-a-b', originScanner: 'urn:dev:cookie:road-a:bt', destinationScanner: 'urn:dev:cookie:road-b:bt', originRadar: 'urn:dev:cookie:road-a:radar', lengthM: 1200 };
await inject('PUT', '/virtual/road-a-b-travel-time', travelTimeDefinition(roadLink), 'application/json');
await inject('PUT', '/virtual/road-a-b-weighted', weightedTravelTimeDefinition(roadLink), 'application/json');
const cookieHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
let road: RunningRoad | undefined;
if (config.cookiePort > 0) road = await startCookieRoad({ transport: 'tcp', host: cookieHost, port: config.cookiePort, loop: true, realtime: true, startMs: Date.now() + 2000, onError });
else if (config.mqttPort > 0) road = await startCookieRoad({ transport: 'mqtt', mqttUrl: `mqtt://${cookieHost.includes(':') ? `[${cookieHost}]` : cookieHost}:${config.mqttPort}`, token: hub.adminToken, loop: true, realtime: true, startMs: Date.now() + 2000, onError });

// An NGIMU streaming OSC over UDP at 100 Hz (/euler /quaternion /linear, plus the 10 Hz and 1 Hz messages), its Thing
// keyed by the simulator's source address.
let imu: RunningNgimu | undefined;
const imuId = 'urn:dev:ngimu:demo';
if (config.oscPort > 0) {
  await inject('PUT', '/mappings/ngimu-osc', readFileSync(join(ROOT, 'mappings', 'ngimu-osc.ttl'), 'utf8'), 'text/turtle');
  const oscHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  imu = await startNgimu({ host: oscHost, port: config.oscPort, rateHz: 100, messages: ['/euler', '/quaternion', '/linear'], onError });
  if (await hub.directory.get(imuId)) await hub.directory.delete(imuId);
  await register('ngimu-imu', imuId, { TITLE: 'NGIMU (simulated)', ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: `${oscHost.includes(':') ? `[${oscHost}]` : oscHost}:${imu.localPort}`, SEND_PORT: config.oscPort, MAPPING: 'ngimu-osc' });
}
// The fog paper's closed loop: the NGIMU (and a BNO055 over MQTT, which takes over while OSC is silent) is a 3D mouse;
// the mouse rule turns its orientation into [r, theta, phi] and drives a simulated UR-style robot with movel.
let robot: RunningRobot | undefined;
const robotId = 'urn:dev:robot:demo';
const bnoId = 'urn:dev:bno055:demo';
if (imu) {
  robot = await startRobot({ host: '127.0.0.1', port: 0 });
  await inject('PUT', '/mappings/bno055-mqtt', readFileSync(join(ROOT, 'mappings', 'bno055-mqtt.ttl'), 'utf8'), 'text/turtle');
  for (const id of [robotId, bnoId]) if (await hub.directory.get(id)) await hub.directory.delete(id);
  await register('bno055-orientation', bnoId, { TITLE: 'BNO055 (3D mouse, MQTT)', ADAPTER_ID: 'urn:wot-hub:adapter:mqtt', MAC: '0011223344AA', MAPPING: 'bno055-mqtt' });
  await register('ur-robot', robotId, { TITLE: 'UR-style robot (simulated)', ADAPTER_ID: 'urn:wot-hub:adapter:urscript', ROBOT_ADDRESS: `127.0.0.1:${robot.port}`, DOMAIN: 'default' });
  await inject('PUT', '/rules/mouse', JSON.stringify(mouseRule({ imu: imuId, bno: bnoId, robot: robotId })), 'application/json');
}
const first = `urn:dev:eui:${tts[0]!.devEui.toLowerCase()}`;
const countQuery = 'PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT (COUNT(*) AS ?observations) WHERE { GRAPH ?g { ?o a sosa:Observation } }';
say();
say(`Hub demo running at ${base} with ${tts.length + chirpstack.length + sigfox.length} simulated devices:`);
say(`  ${tts.length} LoRaWAN sensors via The Things Stack over MQTT${config.mqttPort > 0 ? ` (embedded broker on ${config.host}:${config.mqttPort})` : ' webhooks'},`);
say(`  ${chirpstack.length} via the ChirpStack HTTP integration, ${sigfox.length} Sigfox devices via callbacks.`);
if (gateways.length) say(`  ${abp.length} ABP sensors behind a simulated gateway (packet forwarder, UDP ${config.packetForwarderPort}).`);
say(`  a car (VIN ${car.vin}): ELM327 over TCP on ${car.host}:${car.port}, GPS on ${car.gpsPort}; curl -s ${base}/wot/${encodeURIComponent(carId)}/properties/speed`);
if (road) say(`  two Cookie nodes on a road link (${road.plan.cars.length} cars a round, over ${config.cookiePort > 0 ? `TCP ${config.cookiePort}` : 'MQTT cookie/{gatewayId}/up'}); curl -s ${base}/wot/${encodeURIComponent('urn:dev:cookie:road-a:bt')}/properties/lastDetection`);
if (road) say(`  virtual sensors on that link (after ~15 cars): curl -s ${base}/wot/${encodeURIComponent(virtualThingId('road-a-b-travel-time'))}/properties/travelTime ; curl -s ${base}/wot/${encodeURIComponent(virtualThingId('road-a-b-weighted'))}/properties/serial ; definitions at ${base}/virtual`);
if (imu) say(`  an NGIMU over OSC (UDP ${config.oscPort}) at 100 Hz; curl -s ${base}/wot/${encodeURIComponent(imuId)}/properties/yaw`);
if (robot) say(`  the 3D mouse drives a simulated robot (URScript over TCP 127.0.0.1:${robot.port}) through the rule ${base}/rules/mouse; curl -s ${base}/wot/${encodeURIComponent(robotId)}/properties/pose ; curl -s ${base}/wot/${encodeURIComponent('urn:wot-hub:rule:mouse')}/properties/outputs`);
say();
say('Try:');
say(`  curl -s ${base}/things | head -c 600`);
say(`  curl -s ${base}/wot/${encodeURIComponent(first)}/properties/temperature`);
say(`  curl -s ${base}/sparql --data-urlencode 'query=${countQuery}'`);
say(`  admin token: ${hub.adminTokenFile ?? '(from configuration)'}`);
say('Ctrl-C stops the demo.');

const ticker = setInterval(async () => {
  try {
    const rows = await hub.store.select(countQuery);
    const sent = fleets.reduce((s, f) => s + f.stats.acked, 0) + gateways.reduce((s, g) => s + g.stats.pushAcks, 0);
    say(`  ${new Date().toISOString().slice(11, 19)}  messages acknowledged ${sent}, observations in SPARQL ${rows[0]?.observations?.value ?? 0}, ` +
      `${first.slice(-8)} temperature ${JSON.stringify(hub.liveState.property(first, 'temperature') ?? hub.liveState.property(first, 'temperature_1') ?? null)}`);
  } catch (e) {
    say(`  status query failed: ${(e as Error).message}`);
  }
}, 5000);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  for (const f of fleets) await f.stop();
  for (const g of gateways) await g.stop();
  await car.stop();
  await road?.stop();
  await imu?.stop();
  await robot?.stop();
  await hub.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
