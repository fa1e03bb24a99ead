// MQTT topic dispatch: which binding a topic belongs to (TTS v3, ChirpStack v4, the hub's generic JSON topics) and what it names.
//
//   v3/{app}@{tenant}/devices/{dev}/{event...}          The Things Stack v3 (`v3/{app}/devices/...` on Open Source)
//   application/{appId}/device/{devEui}/event/{event}   ChirpStack v4 (json=true integration)
//   hub/devices/{keyType}/{key}/up                       generic JSON uplink of a device, found by its device key
//   hub/things/{thingId}/messages                        generic JSON message of a Thing, named by its id
//   cookie/{gatewayId}/up | cookie/{gatewayId}/json      Cookie messages a gateway carries: serial form | JSON form
//   obd/{vin}/up                                         an in-vehicle gateway's ELM327 reply and NMEA lines (hub/bindings/obd)
//
// Topic levels are matched exactly; a topic that fits none of these is `other` (ordinary pub/sub on the embedded broker).

/** Longest topic the hub accepts on its broker and dispatches (device topics are far shorter). */
export const MAX_TOPIC_LENGTH = 512;

/** What a topic names, when it is one of the hub's device topics. */
export type TopicRoute =
  | { kind: 'tts'; event: string; applicationId: string; tenantId?: string; deviceId: string }
  | { kind: 'chirpstack'; event: string; applicationId: string; devEui: string }
  | { kind: 'device'; keyType: string; key: string }
  | { kind: 'thing'; thingId: string }
  | { kind: 'obd'; vin: string }
  | { kind: 'cookie'; gatewayId: string; form: 'up' | 'json' }
  | { kind: 'other' };

/** The subscriptions that receive every device topic above (on an external broker; `$share/<group>/` is prefixed). */
export const DEVICE_TOPIC_FILTERS = ['v3/+/devices/+/#', 'application/+/device/+/event/+', 'hub/devices/+/+/up', 'hub/things/+/messages', 'cookie/+/up', 'cookie/+/json', 'obd/+/up'] as const;

/** TTS upstream events (lorawan-stack pkg/applicationserver/io/mqtt/topics/v3.go), after `devices/{dev}/`. */
const TTS_EVENTS = new Set([
  'up',
  'up/normalized',
  'join',
  'down/queued',
  'down/sent',
  'down/ack',
  'down/nack',
  'down/failed',
  'down/invalidated',
  'service/data',
  'location/solved',
]);

/** Key types a generic topic may name: letters and digits, as KeyType values are (devEui, sigfoxId, mac, vin, ...). */
const KEY_TYPE = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

/** A topic level that is a percent-encoded id (thing ids and keys may hold characters MQTT levels cannot: '/', '+', '#'). */
function decodeLevel(level: string): string | undefined {
  if (level === '' || level.length > 256) return undefined;
  try {
    return decodeURIComponent(level);
  } catch {
    return undefined;
  }
}

/** Classifies a topic in one split; never throws. */
export function routeTopic(topic: string): TopicRoute {
  if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) return { kind: 'other' };
  const levels = topic.split('/');
  const [first] = levels;
  if (first === 'v3' && levels.length >= 5 && levels[2] === 'devices') {
    const event = levels.slice(4).join('/');
    const app = levels[1]!;
    const deviceId = levels[3]!;
    if (!TTS_EVENTS.has(event) || app === '' || deviceId === '') return { kind: 'other' };
    const at = app.indexOf('@');
    if (at === 0 || at === app.length - 1) return { kind: 'other' };
    return at > 0
      ? { kind: 'tts', event, applicationId: app.slice(0, at), tenantId: app.slice(at + 1), deviceId }
      : { kind: 'tts', event, applicationId: app, deviceId };
  }
  if (first === 'application' && levels.length === 6 && levels[2] === 'device' && levels[4] === 'event') {
    const [, applicationId, , devEui, , event] = levels as [string, string, string, string, string, string];
    if (applicationId === '' || devEui === '' || event === '') return { kind: 'other' };
    return { kind: 'chirpstack', event, applicationId, devEui };
  }
  if (first === 'hub') {
    if (levels.length === 5 && levels[1] === 'devices' && levels[4] === 'up') {
      const keyType = levels[2]!;
      const key = decodeLevel(levels[3]!);
      if (!KEY_TYPE.test(keyType) || key === undefined || key.trim() === '') return { kind: 'other' };
      return { kind: 'device', keyType, key };
    }
    if (levels.length === 4 && levels[1] === 'things' && levels[3] === 'messages') {
      const thingId = decodeLevel(levels[2]!);
      if (thingId === undefined || thingId.trim() === '') return { kind: 'other' };
      return { kind: 'thing', thingId };
    }
  }
  if (first === 'cookie' && levels.length === 3 && (levels[2] === 'up' || levels[2] === 'json') && /^[A-Za-z0-9._~-]{1,64}$/.test(levels[1]!)) {
    return { kind: 'cookie', gatewayId: levels[1]!, form: levels[2] };
  }
  if (first === 'obd' && levels.length === 3 && levels[2] === 'up' && /^[A-HJ-NPR-Z0-9]{17}$/.test(levels[1]!)) return { kind: 'obd', vin: levels[1]! };
  return { kind: 'other' };
}
