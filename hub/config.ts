// Hub configuration: one JSON Schema (TypeBox), values from defaults < config file < env vars < flags, validated at start.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FormatRegistry } from '@sinclair/typebox';
import { ConfigError } from './errors.ts';

if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', (v) => URL.canParse(v));

export const Scope = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('act'), Type.Literal('admin')]);
export type Scope = Static<typeof Scope>;

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const HubConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the HTTP and CoAP servers bind to' }),
    httpPort: Type.Intersect([Port], { default: 8080 }),
    coapPort: Type.Intersect([Port], { default: 5683 }),
    dataDir: Type.String({ minLength: 1, default: './data' }),
    /** Public base URL used in Location headers, TDs and LDP IRIs; derived from host and port when absent. */
    baseUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://' })),
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    tokens: Type.Array(Type.Object({ token: Type.String({ minLength: 16 }), scopes: Type.Array(Scope, { minItems: 1 }) }), {
      default: [],
    }),
    /** Whether reads need no token: 'loopback' = open only while bound to a loopback address. */
    readsOpen: Type.Union([Type.Literal('loopback'), Type.Literal('always'), Type.Literal('never')], { default: 'loopback' }),
    queryTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
    /** Time budget of a query sent without a token (anonymous reads); token holders get queryTimeoutMs. */
    anonymousQueryTimeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
    /** Queries one client may run at once (anonymous: per remote address; with a token: per token); beyond it 429. */
    maxQueriesPerClient: Type.Integer({ minimum: 1, default: 2 }),
    /** Largest body of an RDF write (SPARQL Update, Graph Store, LDP), which needs a write token. */
    bodyLimit: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
    /** Largest SPARQL query text in a body with a token (/sparql, /search/sparql); without a token 64 KiB. */
    queryBodyLimit: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
    /** Largest mapfile (PUT /mappings/{name}, LDP /ldp/mappings/). */
    mapfileBodyLimit: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
    /** Most triples in one mapfile (Turtle, or YARRRML once converted); beyond it 413 mapfile-too-large. */
    maxMapfileTriples: Type.Integer({ minimum: 100, default: 20_000 }),
    /** Largest message pushed to /ingest/{thingId} or POST /mappings/{name}/preview. */
    ingestBodyLimit: Type.Integer({ minimum: 1024, default: 256 * 1024 }),
    /** Time to receive a whole request (headers and body); slower uploads are cut off. */
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 60_000 }),
    /** Time to receive the request headers (at most requestTimeoutMs). */
    headersTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /** How long an idle keep-alive connection is kept between requests. */
    keepAliveTimeoutMs: Type.Integer({ minimum: 100, default: 5_000 }),
    /** A connection with no traffic either way for this long is closed (never below queryTimeoutMs + 5 s). */
    idleTimeoutMs: Type.Integer({ minimum: 1000, default: 120_000 }),
    /** Open HTTP connections in total; beyond it new connections are dropped. */
    maxConnections: Type.Integer({ minimum: 1, default: 2048 }),
    /** Open HTTP connections per client address; beyond it that client's new connections are dropped. */
    maxConnectionsPerClient: Type.Integer({ minimum: 1, default: 256 }),
    /** Open Server-Sent Event streams (/events, Thing observations and events) in total; beyond it 429. */
    maxEventStreams: Type.Integer({ minimum: 1, default: 1024 }),
    /** Open Server-Sent Event streams per client address; beyond it 429. */
    maxEventStreamsPerClient: Type.Integer({ minimum: 1, default: 16 }),
    /** Host names (besides loopback and baseUrl's host) that requests may name while the hub is bound to loopback. */
    allowedHosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Embedded MQTT broker (aedes) port; 0 = off. Default 1883, or off when mqttUrl names an external broker. */
    mqttPort: Type.Optional(Type.Intersect([Port])),
    /** External MQTT broker (mqtt:// or mqtts://); the hub subscribes to the device topics there. */
    mqttUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^(mqtt|mqtts|ws|wss|tcp|ssl)://' })),
    mqttUser: Type.Optional(Type.String()),
    mqttPassword: Type.Optional(Type.String()),
    /** MQTT v5 shared-subscription group on the external broker (`$share/<group>/...`), so several hubs split the load. */
    mqttSharedGroup: Type.Optional(Type.String({ minLength: 1, pattern: '^[^/#+]+$' })),
    /** Semtech UDP packet-forwarder port (LoRaWAN gateways straight to the hub); 0 = off. */
    packetForwarderPort: Type.Intersect([Port], { default: 1700 }),
    /** OSC UDP listener port (an NGIMU sends to 8000 by default); 0 = off. Bound to `host`. */
    oscPort: Type.Intersect([Port], { default: 8000 }),
    /** TCP listener for NUL-framed Cookie serial streams (a serial-to-network bridge per gateway); 0 = off. Bound to `host`. */
    cookiePort: Type.Intersect([Port], { default: 0 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    /** Upstream hub (edge to cloud): its base URL, or its Graph Store endpoint (`.../graph-store`); unset = no forwarding. */
    upstreamUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://' })),
    /** Token (write scope) the upstream hub accepts for Graph Store writes. */
    upstreamToken: Type.Optional(Type.String({ minLength: 1 })),
    /** The durable outbox (<dataDir>/outbox/) of what goes upstream; used only with upstreamUrl. */
    outbox: Type.Object(
      {
        /** Most entries (one per stored message) queued while the link is down. */
        maxEntries: Type.Integer({ minimum: 1, default: 1_000_000 }),
        /** Most bytes (N-Quads) queued. */
        maxBytes: Type.Integer({ minimum: 1024, default: 512 * 1024 * 1024 }),
        /** When a bound is reached: drop the oldest entries, or refuse new messages (503 outbox-full, not stored). */
        whenFull: Type.Union([Type.Literal('drop-oldest'), Type.Literal('refuse-newest')], { default: 'drop-oldest' }),
        /** Entries per upstream request. */
        batchEntries: Type.Integer({ minimum: 1, maximum: 100_000, default: 200 }),
        /** Longest wait between retries (exponential backoff from 250 ms, with jitter). */
        maxBackoffMs: Type.Integer({ minimum: 100, default: 30_000 }),
        /** Forward only the observations of these property names (SOSA and NGSI-LD); absent = all. */
        properties: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 1024 })),
        /** 'minute': forward per-minute aggregates (count, mean, min, max) of numeric observations instead of each one. */
        aggregate: Type.Union([Type.Literal('none'), Type.Literal('minute')], { default: 'none' }),
      },
      { default: {} },
    ),
    /** Downlink command queues (hub/downlink): <dataDir>/downlink/commands.log. */
    downlink: Type.Object(
      {
        /** Commands waiting per Thing and interface; beyond it an invokeaction answers 429 downlink-queue-full. */
        queueLimit: Type.Integer({ minimum: 1, maximum: 100_000, default: 64 }),
        /** Default time to live of a command not yet sent (s); an action's `ttlSeconds` overrides it. */
        ttlSeconds: Type.Integer({ minimum: 1, default: 3600 }),
        /** Sends tried in all before a FAILED command stays FAILED. */
        maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
        /** Wait before the first retry (ms), doubled for each further one. */
        retryDelayMs: Type.Integer({ minimum: 0, default: 30_000 }),
        /** Finished commands kept for their status resources (oldest dropped first). */
        keepFinished: Type.Integer({ minimum: 0, default: 20_000 }),
        /** A send the hub may have made before it stopped (TTS): 'fail' = FAILED "unknown after restart"; 'replace' = sent again with down/replace. */
        inDoubt: Type.Union([Type.Literal('fail'), Type.Literal('replace')], { default: 'fail' }),
      },
      { default: {} },
    ),
    store: Type.Object(
      {
        kind: Type.Union([Type.Literal('embedded'), Type.Literal('sparql')], { default: 'embedded' }),
        /** Drop observation graphs older than this many days (0 = keep forever). */
        retentionDays: Type.Number({ minimum: 0, default: 0 }),
        /** Take a background snapshot once the log has grown past this many bytes. */
        snapshotLogBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024 }),
        /** Writes accepted but not yet applied by the store worker (one insert() = one); beyond it writes get 503 overloaded. */
        maxPendingWrites: Type.Integer({ minimum: 1, default: 100_000 }),
        /** Inserts get 503 overloaded while the oldest insert not yet applied by a store worker has waited longer than this (0 = no bound). */
        maxApplyLagMs: Type.Integer({ minimum: 0, default: 0 }),
        /**
         * Writes that add quads get 507 store-full once the embedded store would hold more (0 = no bound). Each engine
         * keeps the whole store in a WebAssembly memory capped at 4 GiB: measured here with the store bench's SOSA
         * data, ~250 MB per million quads, the engine traps past ~15M quads, and a worker that traps is lost.
         */
        maxQuads: Type.Integer({ minimum: 0, default: 12_000_000 }),
        /** Store workers holding the same data: writes go to all, a query to one, so a runaway query never stalls writes or /health (1 = no standby). */
        replicas: Type.Integer({ minimum: 1, maximum: 4, default: 2 }),
        /** Standby store workers kept current by the writes alone (no queries): promoted at once when a replica is ended. */
        standby: Type.Integer({ minimum: 0, maximum: 1, default: 1 }),
        /** Nice value of the store worker threads (Linux): they yield to the main thread when the cores are short (0 = off). */
        workerNice: Type.Integer({ minimum: 0, maximum: 19, default: 10 }),
        /** Maintain dashboard aggregates (counts, latest value per property, hourly sums) beside the embedded store. */
        aggregates: Type.Boolean({ default: true }),
        queryEndpoint: Type.Optional(Type.String({ format: 'uri' })),
        updateEndpoint: Type.Optional(Type.String({ format: 'uri' })),
        graphStoreEndpoint: Type.Optional(Type.String({ format: 'uri' })),
        user: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
      },
      { default: {} },
    ),
  },
  { additionalProperties: false },
);

export type HubConfig = Static<typeof HubConfigSchema> & { baseUrl: string; mqttPort: number };

interface Setting {
  path: string[];
  env: string;
  flag?: string;
  parse: 'string' | 'int' | 'number' | 'json';
}

/** Every setting that can come from the environment or the command line. */
export const SETTINGS: Setting[] = [
  { path: ['host'], env: 'HUB_HOST', flag: '--host', parse: 'string' },
  { path: ['httpPort'], env: 'HUB_HTTP_PORT', flag: '--port', parse: 'int' },
  { path: ['coapPort'], env: 'HUB_COAP_PORT', flag: '--coap-port', parse: 'int' },
  { path: ['dataDir'], env: 'HUB_DATA_DIR', flag: '--data', parse: 'string' },
  { path: ['baseUrl'], env: 'HUB_BASE_URL', flag: '--base-url', parse: 'string' },
  { path: ['adminToken'], env: 'HUB_ADMIN_TOKEN', flag: '--admin-token', parse: 'string' },
  { path: ['tokens'], env: 'HUB_TOKENS', flag: '--tokens', parse: 'json' },
  { path: ['readsOpen'], env: 'HUB_READS_OPEN', flag: '--reads-open', parse: 'string' },
  { path: ['queryTimeoutMs'], env: 'HUB_QUERY_TIMEOUT_MS', flag: '--query-timeout-ms', parse: 'int' },
  { path: ['anonymousQueryTimeoutMs'], env: 'HUB_ANONYMOUS_QUERY_TIMEOUT_MS', flag: '--anonymous-query-timeout-ms', parse: 'int' },
  { path: ['maxQueriesPerClient'], env: 'HUB_MAX_QUERIES_PER_CLIENT', flag: '--max-queries-per-client', parse: 'int' },
  { path: ['bodyLimit'], env: 'HUB_BODY_LIMIT', flag: '--body-limit', parse: 'int' },
  { path: ['queryBodyLimit'], env: 'HUB_QUERY_BODY_LIMIT', flag: '--query-body-limit', parse: 'int' },
  { path: ['mapfileBodyLimit'], env: 'HUB_MAPFILE_BODY_LIMIT', flag: '--mapfile-body-limit', parse: 'int' },
  { path: ['maxMapfileTriples'], env: 'HUB_MAX_MAPFILE_TRIPLES', flag: '--max-mapfile-triples', parse: 'int' },
  { path: ['ingestBodyLimit'], env: 'HUB_INGEST_BODY_LIMIT', flag: '--ingest-body-limit', parse: 'int' },
  { path: ['requestTimeoutMs'], env: 'HUB_REQUEST_TIMEOUT_MS', flag: '--request-timeout-ms', parse: 'int' },
  { path: ['headersTimeoutMs'], env: 'HUB_HEADERS_TIMEOUT_MS', flag: '--headers-timeout-ms', parse: 'int' },
  { path: ['keepAliveTimeoutMs'], env: 'HUB_KEEP_ALIVE_TIMEOUT_MS', flag: '--keep-alive-timeout-ms', parse: 'int' },
  { path: ['idleTimeoutMs'], env: 'HUB_IDLE_TIMEOUT_MS', flag: '--idle-timeout-ms', parse: 'int' },
  { path: ['maxConnections'], env: 'HUB_MAX_CONNECTIONS', flag: '--max-connections', parse: 'int' },
  { path: ['maxConnectionsPerClient'], env: 'HUB_MAX_CONNECTIONS_PER_CLIENT', flag: '--max-connections-per-client', parse: 'int' },
  { path: ['maxEventStreams'], env: 'HUB_MAX_EVENT_STREAMS', flag: '--max-event-streams', parse: 'int' },
  { path: ['maxEventStreamsPerClient'], env: 'HUB_MAX_EVENT_STREAMS_PER_CLIENT', flag: '--max-event-streams-per-client', parse: 'int' },
  { path: ['allowedHosts'], env: 'HUB_ALLOWED_HOSTS', flag: '--allowed-hosts', parse: 'json' },
  { path: ['mqttPort'], env: 'HUB_MQTT_PORT', flag: '--mqtt-port', parse: 'int' },
  { path: ['mqttUrl'], env: 'HUB_MQTT_URL', flag: '--mqtt-url', parse: 'string' },
  { path: ['mqttUser'], env: 'HUB_MQTT_USER', flag: '--mqtt-user', parse: 'string' },
  { path: ['mqttPassword'], env: 'HUB_MQTT_PASSWORD', flag: '--mqtt-password', parse: 'string' },
  { path: ['mqttSharedGroup'], env: 'HUB_MQTT_SHARED_GROUP', flag: '--mqtt-shared-group', parse: 'string' },
  { path: ['packetForwarderPort'], env: 'HUB_PACKET_FORWARDER_PORT', flag: '--packet-forwarder-port', parse: 'int' },
  { path: ['oscPort'], env: 'HUB_OSC_PORT', flag: '--osc-port', parse: 'int' },
  { path: ['cookiePort'], env: 'HUB_COOKIE_PORT', flag: '--cookie-port', parse: 'int' },
  { path: ['logLevel'], env: 'HUB_LOG_LEVEL', flag: '--log-level', parse: 'string' },
  { path: ['upstreamUrl'], env: 'HUB_UPSTREAM_URL', flag: '--upstream-url', parse: 'string' },
  { path: ['upstreamToken'], env: 'HUB_UPSTREAM_TOKEN', flag: '--upstream-token', parse: 'string' },
  { path: ['outbox', 'maxEntries'], env: 'HUB_OUTBOX_MAX_ENTRIES', flag: '--outbox-max-entries', parse: 'int' },
  { path: ['outbox', 'maxBytes'], env: 'HUB_OUTBOX_MAX_BYTES', flag: '--outbox-max-bytes', parse: 'int' },
  { path: ['outbox', 'whenFull'], env: 'HUB_OUTBOX_WHEN_FULL', flag: '--outbox-when-full', parse: 'string' },
  { path: ['outbox', 'batchEntries'], env: 'HUB_OUTBOX_BATCH_ENTRIES', flag: '--outbox-batch-entries', parse: 'int' },
  { path: ['outbox', 'maxBackoffMs'], env: 'HUB_OUTBOX_MAX_BACKOFF_MS', flag: '--outbox-max-backoff-ms', parse: 'int' },
  { path: ['outbox', 'properties'], env: 'HUB_OUTBOX_PROPERTIES', flag: '--outbox-properties', parse: 'json' },
  { path: ['outbox', 'aggregate'], env: 'HUB_OUTBOX_AGGREGATE', flag: '--outbox-aggregate', parse: 'string' },
  { path: ['downlink', 'queueLimit'], env: 'HUB_DOWNLINK_QUEUE_LIMIT', flag: '--downlink-queue-limit', parse: 'int' },
  { path: ['downlink', 'ttlSeconds'], env: 'HUB_DOWNLINK_TTL_SECONDS', flag: '--downlink-ttl-seconds', parse: 'int' },
  { path: ['downlink', 'maxAttempts'], env: 'HUB_DOWNLINK_MAX_ATTEMPTS', flag: '--downlink-max-attempts', parse: 'int' },
  { path: ['downlink', 'retryDelayMs'], env: 'HUB_DOWNLINK_RETRY_DELAY_MS', flag: '--downlink-retry-delay-ms', parse: 'int' },
  { path: ['downlink', 'keepFinished'], env: 'HUB_DOWNLINK_KEEP_FINISHED', flag: '--downlink-keep-finished', parse: 'int' },
  { path: ['downlink', 'inDoubt'], env: 'HUB_DOWNLINK_IN_DOUBT', flag: '--downlink-in-doubt', parse: 'string' },
  { path: ['store', 'kind'], env: 'HUB_STORE', flag: '--store', parse: 'string' },
  { path: ['store', 'retentionDays'], env: 'HUB_RETENTION_DAYS', flag: '--retention-days', parse: 'number' },
  { path: ['store', 'snapshotLogBytes'], env: 'HUB_SNAPSHOT_LOG_BYTES', flag: '--snapshot-log-bytes', parse: 'int' },
  { path: ['store', 'maxPendingWrites'], env: 'HUB_MAX_PENDING_WRITES', flag: '--max-pending-writes', parse: 'int' },
  { path: ['store', 'maxApplyLagMs'], env: 'HUB_STORE_MAX_APPLY_LAG_MS', flag: '--store-max-apply-lag-ms', parse: 'int' },
  { path: ['store', 'maxQuads'], env: 'HUB_STORE_MAX_QUADS', flag: '--store-max-quads', parse: 'int' },
  { path: ['store', 'replicas'], env: 'HUB_STORE_REPLICAS', flag: '--store-replicas', parse: 'int' },
  { path: ['store', 'standby'], env: 'HUB_STORE_STANDBY', flag: '--store-standby', parse: 'int' },
  { path: ['store', 'workerNice'], env: 'HUB_STORE_WORKER_NICE', flag: '--store-worker-nice', parse: 'int' },
  { path: ['store', 'aggregates'], env: 'HUB_STORE_AGGREGATES', flag: '--store-aggregates', parse: 'json' },
  { path: ['store', 'queryEndpoint'], env: 'HUB_SPARQL_QUERY_URL', flag: '--sparql-query-url', parse: 'string' },
  { path: ['store', 'updateEndpoint'], env: 'HUB_SPARQL_UPDATE_URL', flag: '--sparql-update-url', parse: 'string' },
  { path: ['store', 'graphStoreEndpoint'], env: 'HUB_GRAPH_STORE_URL', flag: '--graph-store-url', parse: 'string' },
  { path: ['store', 'user'], env: 'HUB_SPARQL_USER', flag: '--sparql-user', parse: 'string' },
  { path: ['store', 'password'], env: 'HUB_SPARQL_PASSWORD', flag: '--sparql-password', parse: 'string' },
];

function parseValue(setting: Setting, raw: string, origin: string): unknown {
  switch (setting.parse) {
    case 'string':
      return raw;
    case 'int':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${origin}: '${raw}' is not a number`);
      return n;
    }
    case 'json':
      try {
        return JSON.parse(raw);
      } catch (e) {
        throw new ConfigError(`${origin}: not valid JSON (${jsonErrorWhere(e)})`);
      }
  }
}

/**
 * Where JSON.parse failed, without the text around it: Node's messages quote the input (`Unexpected token ...,
 * "[{"token": "s3cr..." is not valid JSON`), and a tokens list or a config file holds secrets.
 */
function jsonErrorWhere(e: unknown): string {
  const m = /position (\d+)/.exec((e as Error).message);
  return m ? `syntax error at position ${m[1]}` : 'syntax error';
}

/** Keys whose values are secrets: adminToken, tokens[*].token, store.password (and look-alikes such as a misspelt key). */
const SECRET_KEY = /token|password|secret|credential/i;
const REDACTED = '<redacted>';

/**
 * A copy of `value` fit to print: inside a secret (`secret`, or below a secret-looking key) every scalar becomes
 * `<redacted>`; `scopes` lists are not secret; the user:password of a URL is cut out.
 */
function redact(value: unknown, secret: boolean, depth = 0): unknown {
  if (typeof value === 'string' && !secret) return value.replace(/\/\/[^/@\s]*@/g, '//<redacted>@'); // URL userinfo
  if (typeof value !== 'object' || value === null) return secret ? REDACTED : value;
  if (depth > 16) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, secret, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k === 'scopes' ? false : secret || SECRET_KEY.test(k), depth + 1)]));
}

/**
 * The `(got ...)` part of a config problem, with secrets left out: a value at or below a secret path (`/adminToken`,
 * `/tokens/0/token`, `/tokens` given as a string, `/store/password`) is never shown; a value above one (the whole
 * `tokens` list, the root) is shown with its secrets replaced by `<redacted>`.
 */
export function describeRejected(path: string, value: unknown): string {
  if (value === undefined) return '';
  let secret = false;
  for (const s of path.split('/').filter(Boolean)) secret = s === 'scopes' ? false : secret || SECRET_KEY.test(s);
  const shown = redact(value, secret);
  return shown === REDACTED ? ' (a secret: the value is not shown)' : ` (got ${JSON.stringify(shown)})`;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export interface ConfigSources {
  argv?: string[];
  env?: Record<string, string | undefined>;
  /** Overrides applied last (tests use this). */
  overrides?: Record<string, unknown>;
}

/** Reads `--config <file>` / `HUB_CONFIG`, then env vars, then flags; validates; fails fast with every problem listed. */
export function loadConfig(sources: ConfigSources = {}): HubConfig {
  const argv = sources.argv ?? [];
  const env = sources.env ?? {};
  const raw: Record<string, unknown> = {};

  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // Not echoed: a stray argument is often the second word of a secret (--admin-token 'two words').
    if (!arg.startsWith('--')) throw new ConfigError(`Unexpected argument #${i + 1}: flags are --name value or --name=value`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new ConfigError(`Flag ${arg} needs a value`);
      flags.set(arg, value);
      i++;
    }
  }
  const known = new Set(['--config', ...SETTINGS.map((s) => s.flag)]);
  for (const flag of flags.keys()) if (!known.has(flag)) throw new ConfigError(`Unknown flag ${flag}`);

  const file = flags.get('--config') ?? env.HUB_CONFIG;
  if (file) {
    let text: string;
    try {
      text = readFileSync(resolve(file), 'utf8');
    } catch (e) {
      throw new ConfigError(`Cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      Object.assign(raw, JSON.parse(text));
    } catch (e) {
      throw new ConfigError(`Config file ${file} is not valid JSON: ${jsonErrorWhere(e)}`);
    }
  }
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') setPath(raw, s.path, parseValue(s, v, s.env));
  }
  for (const s of SETTINGS) {
    const v = s.flag ? flags.get(s.flag) : undefined;
    if (v !== undefined) setPath(raw, s.path, parseValue(s, v, s.flag!));
  }
  for (const [k, v] of Object.entries(sources.overrides ?? {})) raw[k] = v;

  return validateConfig(raw);
}

export function validateConfig(raw: Record<string, unknown>): HubConfig {
  const withDefaults = Value.Default(HubConfigSchema, structuredClone(raw)) as Record<string, unknown>;
  const problems = [...Value.Errors(HubConfigSchema as TSchema, withDefaults)].map(
    (e) => `${e.path || '/'}: ${e.message}${describeRejected(e.path, e.value)}`,
  );
  if (problems.length) throw new ConfigError('Invalid hub configuration', problems);
  const cfg = withDefaults as Static<typeof HubConfigSchema>;
  if (cfg.store.kind === 'sparql' && (!cfg.store.queryEndpoint || !cfg.store.updateEndpoint)) {
    throw new ConfigError('Invalid hub configuration', [
      '/store: kind "sparql" needs queryEndpoint and updateEndpoint (HUB_SPARQL_QUERY_URL, HUB_SPARQL_UPDATE_URL)',
    ]);
  }
  const hostForUrl = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host;
  const baseUrl = (cfg.baseUrl ?? `http://${hostForUrl}:${cfg.httpPort}`).replace(/\/+$/, '');
  // The embedded broker runs on 1883 unless an external broker is named and no port is set for the embedded one.
  const mqttPort = cfg.mqttPort ?? (cfg.mqttUrl ? 0 : 1883);
  return { ...cfg, baseUrl, mqttPort };
}

/** True when the address is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
