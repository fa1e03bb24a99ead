// Downlink adapters of the network bindings: TTS and ChirpStack over MQTT (push), Sigfox BIDIR (answer in the callback).
import { ServiceUnavailableError } from '../errors.ts';
import { TTS_CORRELATION_PREFIX } from './events.ts';
import { encodeLorawan, lorawanFPort } from './payload.ts';
import type { CommandRecord, DownlinkAdapter, DownlinkRoute, SendReceipt } from './types.ts';

/** Publishes on the MQTT broker the network server uses (the embedded broker, or the external one the hub subscribes to). */
export type MqttPublish = (topic: string, payload: Buffer) => Promise<void>;

/** Where the publisher comes from: set once the MQTT transport runs (hub start), unset while it does not. */
export interface PublisherSlot {
  publish?: MqttPublish;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && !/[+#/\u0000]/.test(v) ? v : undefined);
const uuidOf = (c: CommandRecord): string => c.id.slice('urn:uuid:'.length);

/**
 * TTS down/push topic of a route: the last uplink's topic (`v3/{app}@{tenant}/devices/{dev}/up`) with `down/push` for
 * `up`, else deviceDefinitions `applicationId`, `tenantId` (optional) and `deviceId` (TTS's device id, not the DevEUI).
 */
export function ttsPushTopic(route: DownlinkRoute): string | undefined {
  const topic = route.lastUplink?.binding === 'tts' ? route.lastUplink.topic : undefined;
  const m = topic ? /^(v3\/[^/]+\/devices\/[^/]+)\/up$/.exec(topic) : null;
  if (m) return `${m[1]}/down/push`;
  const dd = route.deviceDefinitions;
  const app = str(dd.applicationId);
  const dev = str(dd.deviceId);
  if (!app || !dev) return undefined;
  const tenant = str(dd.tenantId);
  return `v3/${app}${tenant ? `@${tenant}` : ''}/devices/${dev}/down/push`;
}

/** ChirpStack v4 command topic: `application/{applicationId}/device/{devEui}/command/down` (from the last uplink or deviceDefinitions). */
export function chirpstackDownTopic(route: DownlinkRoute): string | undefined {
  const topic = route.lastUplink?.binding === 'chirpstack' ? route.lastUplink.topic : undefined;
  const m = topic ? /^application\/([^/]+)\/device\/([^/]+)\/event\/up$/.exec(topic) : null;
  if (m) return `application/${m[1]}/device/${m[2]}/command/down`;
  const app = str(route.deviceDefinitions.applicationId);
  if (!app || route.keyType !== 'devEui') return undefined;
  return `application/${app}/device/${route.deviceKey.toLowerCase()}/command/down`;
}

const networkServer = (route: DownlinkRoute): string | undefined => {
  const ns = route.deviceDefinitions.networkServer;
  return typeof ns === 'string' ? ns.toLowerCase() : undefined;
};

function publisher(slot: PublisherSlot): MqttPublish {
  const p = slot.publish;
  if (!p) throw new ServiceUnavailableError('No MQTT transport runs (mqttPort or mqttUrl)', {}, 'no-mqtt');
  return p;
}

/** The Things Stack v3: `{downlinks: [{f_port, frm_payload | decoded_payload, confirmed, priority, correlation_ids}]}`. */
export function ttsAdapter(slot: PublisherSlot): DownlinkAdapter {
  const publish = async (command: CommandRecord, route: DownlinkRoute, operation: 'push' | 'replace'): Promise<SendReceipt> => {
    const push = ttsPushTopic(route)!;
    const topic = operation === 'push' ? push : `${push.slice(0, -'push'.length)}replace`;
    const enc = encodeLorawan(command.action, command.input, route);
    const downlink: Record<string, unknown> = {
      f_port: enc.fPort,
      ...(enc.bytes ? { frm_payload: Buffer.from(enc.bytes).toString('base64') } : { decoded_payload: enc.decoded }),
      confirmed: enc.confirmed,
      priority: 'NORMAL',
      correlation_ids: [`${TTS_CORRELATION_PREFIX}${uuidOf(command)}`],
    };
    await publisher(slot)(topic, Buffer.from(JSON.stringify({ downlinks: [downlink] })));
    return { evidence: `published to ${topic} (QoS 0), correlation id ${TTS_CORRELATION_PREFIX}${uuidOf(command)}` };
  };
  return {
    binding: 'tts',
    mode: 'push',
    // TTS keeps a queue per device: a second push appends a second downlink (no deduplication by correlation id);
    // down/replace swaps the whole queue, so a copy the first push left there is dropped (a transmitted one is not).
    inDoubt: 'replace',
    serves: (route) => (route.lastUplink ? route.lastUplink.binding === 'tts' : networkServer(route) === 'tts') && ttsPushTopic(route) !== undefined,
    // A TD whose FPort is set but no application port: 400 at submit (and not moved here), not FAILED at the send.
    validate: (_action, input, route) => void lorawanFPort(input, route.deviceDefinitions),
    send: (command, route) => publish(command, route, 'push'),
    replace: (command, route) => publish(command, route, 'replace'),
  };
}

/** ChirpStack v4: DownlinkCommand `{id, devEui, confirmed, fPort, data | object}`; the id becomes the queue item id. */
export function chirpstackAdapter(slot: PublisherSlot): DownlinkAdapter {
  return {
    binding: 'chirpstack',
    mode: 'push',
    // The command's uuid is the queue item id: ChirpStack refuses a second item with the id it holds.
    inDoubt: 'idempotent',
    serves: (route) => (route.lastUplink ? route.lastUplink.binding === 'chirpstack' : networkServer(route) === 'chirpstack') && chirpstackDownTopic(route) !== undefined,
    validate: (_action, input, route) => void lorawanFPort(input, route.deviceDefinitions),
    async send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
      const topic = chirpstackDownTopic(route)!;
      const enc = encodeLorawan(command.action, command.input, route);
      const devEui = topic.split('/')[3]!;
      const body = {
        id: uuidOf(command),
        devEui,
        confirmed: enc.confirmed,
        fPort: enc.fPort,
        ...(enc.bytes ? { data: Buffer.from(enc.bytes).toString('base64') } : { object: enc.decoded }),
      };
      await publisher(slot)(topic, Buffer.from(JSON.stringify(body)));
      return { evidence: `published to ${topic}, queue item id ${body.id}` };
    },
  };
}

/** Sigfox: answered in the BIDIR callback's own response (hub/bindings/sigfox/routes.ts asks DownlinkService.answer). */
export const sigfoxAdapter: DownlinkAdapter = {
  binding: 'sigfox',
  mode: 'answer',
  serves: (route) => route.keyType === 'sigfoxId',
};
