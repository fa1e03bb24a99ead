// createHub(config): builds the store, the services and the HTTP app; start() listens, stop() shuts down in order.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from './config.ts';
import { TokenAuth } from './http/auth.ts';
import { buildApp, type BuildAppOptions } from './http/app.ts';
import type { QuadStore } from './store/quad-store.ts';
import { createStore } from './store/create-store.ts';
import { Directory } from './directory/directory.ts';
import { createMappingService, type MappingService } from './mapping/service.ts';
import { LiveState } from './routing/live-state.ts';
import { createRoutingService, type RoutingService } from './routing/service.ts';
import { adapterKindOfTransport } from './routing/adapters.ts';
import { startTransports, stopTransports } from './bindings/transports.ts';
import type { RunningTransport, UplinkSink } from './bindings/types.ts';
import { SecretStore } from './secrets/index.ts';
import type { CommandSink } from './things/command-sink.ts';
import { oscDownlink } from './bindings/osc/downlink.ts';
import { cookieDownlink } from './bindings/cookie/downlink.ts';
import { createDownlink, type Downlink, type DownlinkRoute } from './downlink/index.ts';
import { PacketForwarderDownlinks } from './bindings/semtech-udp/downlink.ts';
import { obdDownlinkAdapter, type ObdSessionSlot } from './bindings/obd/downlink.ts';
import { ThingRuntime } from './things/thing-runtime.ts';
import { ThingModelCatalog } from './directory/thing-models.ts';
import { TdValidator } from './directory/validator.ts';
import { createOutbox, outboxPlugin, type Outbox } from './outbox/index.ts';
import { createVirtualService, virtualPlugin, type VirtualService } from './virtual/index.ts';
import { createRules, rulesPlugin, virtualOutputs, type RuleEngine } from './rules/index.ts';
import { URSCRIPT_KEY, UrscriptAdapter } from './bindings/urscript/adapter.ts';

export interface Hub {
  config: HubConfig;
  app: FastifyInstance;
  store: QuadStore;
  directory: Directory;
  /** Mapfiles and their attachment to Things. */
  mapping: MappingService;
  /** Device-key index, uplink router and pipeline, adapters, rejections. */
  routing: RoutingService;
  /** The uplink pipeline every transport hands frames to (routing.pipeline). */
  uplinks: UplinkSink;
  /** Named secrets (LoRaWAN session keys) in <dataDir>/secrets.json, referenced from TDs as `secret:<name>`. */
  secrets: SecretStore;
  /** Transports running since start() (MQTT, UDP packet forwarder, ...). */
  transports: RunningTransport[];
  liveState: LiveState;
  commands: CommandSink;
  /** The durable downlink queues behind `commands` (unless a sink was passed in), their adapters and actuation record. */
  downlink: Downlink;
  /** Class A downlinks and OTAA joins on the hub's own packet-forwarder path (state in <dataDir>/lorawan/network.json). */
  packetForwarderDownlinks: PacketForwarderDownlinks;
  things: ThingRuntime;
  /** The edge-to-cloud outbox (upstreamUrl set), else undefined. */
  outbox?: Outbox;
  /** Virtual sensors (hub/virtual): /virtual/{name}, each a Thing; `virtual.on('output', ...)` for rules. */
  virtual: VirtualService;
  /** Rules (hub/rules): /rules/{name}, each a Thing; they act through the downlink queues within their domain. */
  rules: RuleEngine;
  /** The URScript downlink adapter of ur-robot Things (its robot connections and counters). */
  robots: UrscriptAdapter;
  adminToken: string;
  /** Where a generated admin token was written, when it was generated. */
  adminTokenFile?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Returns the configured admin token, or reads/creates `<dataDir>/admin.token` (mode 0600). */
export function resolveAdminToken(config: HubConfig): { token: string; file?: string; generated: boolean } {
  if (config.adminToken) return { token: config.adminToken, generated: false };
  const file = join(resolve(config.dataDir), 'admin.token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file, generated: false };
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, generated: true };
}

/** The outbox's link on /health: what an operator checks first when the cloud copy lags (the whole status: GET /outbox). */
function outboxHealth(outbox: Outbox | undefined): Record<string, () => unknown> | undefined {
  if (!outbox) return undefined;
  return {
    outbox: () => {
      const s = outbox.status();
      return { link: s.link, queuedEntries: s.queuedEntries, oldestAgeMs: s.oldestAgeMs, lastSuccessAt: s.lastSuccessAt, lastError: s.lastError };
    },
  };
}

export async function createHub(config: HubConfig, options: BuildAppOptions & { store?: QuadStore; commands?: CommandSink } = {}): Promise<Hub> {
  mkdirSync(resolve(config.dataDir), { recursive: true, mode: 0o700 });
  chmodSync(resolve(config.dataDir), 0o700);
  const admin = resolveAdminToken(config);
  const store = options.store ?? createStore(config);
  await store.open();
  const auth = new TokenAuth(config, admin.token);
  const secrets = new SecretStore(resolve(config.dataDir));
  const directory = new Directory({ store, baseUrl: config.baseUrl, dataDir: resolve(config.dataDir) });
  const liveState = new LiveState();
  let routing: RoutingService | undefined;
  const downlink = createDownlink(config, store, () => routing, (err, context) => app?.log.warn({ err }, context));
  const commands = options.commands ?? downlink.service;
  // OSC (NGIMU settings, DELIVERED on the echo) and Cookie (configuration set, ack/err) actions; attached at start.
  const deviceDownlinks = [oscDownlink(downlink.service), cookieDownlink(downlink.service, downlink.mqtt)];
  for (const d of deviceDownlinks) downlink.service.registerAdapter(d.adapter);
  // LoRaWAN class A downlinks / OTAA joins through the hub's packet forwarder (its listener attaches itself when it runs).
  const lorawan = new PacketForwarderDownlinks({
    service: downlink.service,
    secrets,
    lookup: (keyType, key) => routing?.index.lookup(keyType, key),
    dir: join(resolve(config.dataDir), 'lorawan'),
    onError: (err, context) => app?.log.warn({ err }, context),
  });
  downlink.service.registerAdapter(lorawan);
  // OBD-II actions go through the vehicles' ELM327 sessions (set while the OBD transport runs).
  const obdSessions: ObdSessionSlot = {};
  downlink.service.registerAdapter(obdDownlinkAdapter(obdSessions, (c, status, evidence, retryable, output) => downlink.service.evidence(c, status, evidence, retryable, output)));
  // ur-robot actions: one URScript line each over TCP; ACCEPTED / DELIVERED / FAILED from the robot's reports.
  const robots = new UrscriptAdapter({ evidence: (c, status, evidence) => downlink.service.evidence(c, status, evidence), live: liveState, onError: (err, context) => app?.log.warn({ err }, context) });
  downlink.service.registerAdapter(robots);
  const things = new ThingRuntime({
    config,
    auth,
    liveState,
    commands,
    models: () => new ThingModelCatalog(config.baseUrl, new TdValidator()),
  });
  things.attachDirectory(directory);
  let app: FastifyInstance;
  let mapping: MappingService;
  let outbox: Outbox | undefined;
  let virtual: VirtualService | undefined;
  let rules: RuleEngine | undefined;
  try {
    await directory.open();
    mapping = await createMappingService({ config, store, directory });
    // The logger is the app's, made below; until then (index build at start) warnings go through this forwarder.
    const log = { warn: (obj: object, msg: string) => app?.log.warn(obj, msg) };
    // With an upstream, observation inserts also enter the durable outbox (after the local write, before the ack).
    outbox = await createOutbox(config, log);
    routing = await createRoutingService({ config, store: outbox ? outbox.tee(store) : store, mapping, directory, live: liveState, log });
    await downlink.service.open();
    routing.pipeline.downlinks = { onUplink: (entry, origin) => downlink.service.onUplink(entry, origin), networkEvent: (b, e) => downlink.service.networkEvent(b, e) };
    app = await buildApp({ config, store, auth, directory, liveState, commands, things, mapping, routing, uplinks: routing.pipeline, secrets, health: outboxHealth(outbox) }, options);
    if (outbox) {
      const o = outbox;
      await app.register(async (child) => outboxPlugin(child, { auth, outbox: o }));
    }
    virtual = createVirtualService({ config, store, routing, mapping, directory, things, models: new ThingModelCatalog(config.baseUrl, new TdValidator()), log });
    const v = virtual;
    await app.register(async (child) => virtualPlugin(child, { auth, virtual: v, baseUrl: config.baseUrl }));
    rules = createRules({ config, live: liveState, things, directory, downlink: downlink.service, virtual: virtualOutputs(v), onError: (err, context) => app.log.warn({ err }, context) });
    const r = rules;
    await app.register(async (child) => rulesPlugin(child, { auth, rules: r, baseUrl: config.baseUrl }));
    things.onError = (err, context) => app.log.warn({ err }, context);
    await things.start();
    routing.adapters.attach((adapter) => things.registerAdapter(adapter));
    // Robots are connected from their registration on (live joint state at once; no connect on the first set point);
    // the device index follows the directory first, so its entries are current when these listeners run.
    const index = routing.index;
    const keepRobots = (e: { id: string }): void => robots.keep(e.id, index.entriesOf(e.id) as DownlinkRoute[]);
    for (const ev of ['thing_created', 'thing_updated', 'thing_deleted'] as const) directory.on(ev, keepRobots);
    for (const thingId of new Set(index.owners(URSCRIPT_KEY).map((e) => e.thingId))) keepRobots({ id: thingId });
    await virtual.open();
    await rules.open();
  } catch (e) {
    await rules?.close();
    robots.close();
    await virtual?.close();
    await outbox?.stop();
    await things.stop();
    await downlink.service.close();
    await directory.close();
    await store.close();
    throw e;
  }
  let stopped = false;
  const transports: RunningTransport[] = [];
  return {
    config,
    app,
    store,
    directory,
    mapping,
    routing,
    uplinks: routing.pipeline,
    secrets,
    transports,
    liveState,
    commands,
    downlink,
    packetForwarderDownlinks: lorawan,
    things,
    outbox,
    virtual,
    rules,
    robots,
    adminToken: admin.token,
    adminTokenFile: admin.file,
    async start() {
      await app.listen({ host: config.host, port: config.httpPort });
      outbox?.start();
      // Transports after the HTTP side: a device's first message finds the hub whole. A transport that cannot bind
      // fails start() (startTransports stops those already started).
      const running = await startTransports(Object.assign({ config, uplinks: routing.pipeline, auth, secrets, log: app.log, directory }, { lorawanDownlinks: lorawan }));
      transports.push(...running);
      const mqtt = running.find((t) => t.name === 'mqtt') as { publish?: (topic: string, payload: Buffer) => Promise<void> } | undefined;
      if (mqtt?.publish) downlink.mqtt.publish = mqtt.publish.bind(mqtt);
      for (const d of deviceDownlinks) await d.attach(running, { uplinks: routing.pipeline, log: app.log });
      const obd = running.find((t) => t.name === 'obd') as { session?: ObdSessionSlot['session'] } | undefined;
      if (obd?.session) obdSessions.session = obd.session;
      // A listener's adapter Thing appears when it starts; the OBD transport runs on every hub (it follows the vehicle
      // TDs, no port of its own), so its adapter appears with the first vehicle's first message instead.
      for (const t of running) if (t.announcesAdapter !== false) routing.adapters.ensure(adapterKindOfTransport(t.name));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Transports first: no new message enters while the app and the store close.
      await stopTransports(transports.splice(0));
      await lorawan.close();
      downlink.mqtt.publish = undefined;
      for (const d of deviceDownlinks) d.detach();
      obdSessions.session = undefined;
      await rules.close();
      robots.close();
      await virtual.close();
      await things.stop();
      await downlink.service.close();
      await app.close();
      await outbox?.stop();
      await directory.close();
      await store.close();
    },
  };
}
