// hub/downlink/payload.ts: what a command puts on the air for LoRaWAN (FPort, confirmed, bytes) and for Sigfox (8 bytes).
import { describe, expect, it } from 'vitest';
import { chirpstackAdapter, ttsAdapter } from '../../hub/downlink/adapters.ts';
import { configuredFPort, encodeLorawan, encodeSigfox } from '../../hub/downlink/payload.ts';
import type { DownlinkRoute } from '../../hub/downlink/types.ts';
import { ThingModelCatalog } from '../../hub/directory/thing-models.ts';
import { TdValidator } from '../../hub/directory/validator.ts';

const raw = { hex: '0102' };
const route = (deviceDefinitions: Record<string, unknown>) => ({ deviceDefinitions, codecs: [] as string[] });

describe('encodeLorawan: the FPort', () => {
  it('is the interface\'s networkDefinitions.fport, as the Thing Models write it (was always 1)', () => {
    expect(encodeLorawan('raw', raw, route({ keyType: 'devEui', networkDefinitions: { fport: 2 } }))).toMatchObject({ fPort: 2, bytes: Uint8Array.from([1, 2]) });
    // a placeholder filled from a form is text; networkDefinitions.fPort and downlinkFPort are read too
    expect(encodeLorawan('raw', raw, route({ networkDefinitions: { fport: '17' } })).fPort).toBe(17);
    expect(encodeLorawan('raw', raw, route({ networkDefinitions: { fPort: 5 } })).fPort).toBe(5);
    expect(encodeLorawan('raw', raw, route({ networkDefinitions: { fport: 5, downlinkFPort: 6 } })).fPort).toBe(6);
    // also for a command the network server's formatter encodes
    expect(encodeLorawan('setInterval', { seconds: 60 }, route({ networkDefinitions: { fport: 9 } }))).toEqual({ fPort: 9, confirmed: true, decoded: { setInterval: { seconds: 60 } } });
  });

  it('takes input.fPort first, then deviceDefinitions (downlinkFPort, fPort, fport), then networkDefinitions, else 1', () => {
    const nd = { networkDefinitions: { fport: 2 } };
    expect(encodeLorawan('raw', { ...raw, fPort: 40 }, route({ fPort: 3, ...nd })).fPort).toBe(40);
    expect(encodeLorawan('raw', raw, route({ fPort: 3, ...nd })).fPort).toBe(3);
    expect(encodeLorawan('raw', raw, route({ downlinkFPort: 4, fPort: 3, ...nd })).fPort).toBe(4);
    expect(encodeLorawan('raw', raw, route({ fport: 8, ...nd })).fPort).toBe(8);
    expect(encodeLorawan('raw', raw, route({})).fPort).toBe(1);
    expect(encodeLorawan('raw', raw, route({ networkDefinitions: {} })).fPort).toBe(1);
    expect(encodeLorawan('raw', raw, route({ networkDefinitions: { fport: '' } })).fPort).toBe(1); // an unset placeholder
  });

  it('refuses a configured FPort that is no application port (400 bad-downlink-fport) instead of sending on port 1', () => {
    for (const bad of [0, 224, 255, 2.5, -1, 'two', '{{FPORT}}', true]) {
      expect(() => encodeLorawan('raw', raw, route({ networkDefinitions: { fport: bad } }))).toThrow(expect.objectContaining({ status: 400, code: 'bad-downlink-fport' }));
    }
    expect(() => configuredFPort({ fPort: 0, networkDefinitions: { fport: 2 } })).toThrow(/deviceDefinitions\.fPort is 0/);
  });

  it('the multi-radio Thing Model: the LoRaWAN interface\'s FPORT reaches the TTS downlink; the Sigfox interface sets none', () => {
    const td = new ThingModelCatalog('http://hub.invalid', new TdValidator()).instantiate('multi-radio-device', { id: 'urn:dev:payload:multi', placeholders: { TITLE: 'M', DEV_EUI: '70B3D57ED00000E1', SIGFOX_ID: 'ABCDEF', FPORT: 2, MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'network-server' } }) as unknown as Record<string, unknown>;
    const defs = td['hub:ioAdapterDefinitions'] as Array<{ uuid: string; deviceDefinitions: Record<string, unknown> }>;
    const lora = defs.find((d) => d.uuid === 'urn:wot-hub:adapter:lorawan')!.deviceDefinitions;
    const sigfox = defs.find((d) => d.uuid === 'urn:wot-hub:adapter:sigfox')!.deviceDefinitions;
    expect(encodeLorawan('raw', raw, route(lora)).fPort).toBe(2);
    expect(configuredFPort(sigfox)).toBeUndefined();
    expect(encodeSigfox({ hex: '0102030405060708' })).toBe('0102030405060708');
  });
});

describe('the TTS and ChirpStack adapters check the FPort at submit', () => {
  const full = (deviceDefinitions: Record<string, unknown>): DownlinkRoute => ({ thingId: 'urn:t', adapterId: 'urn:a', keyType: 'devEui', deviceKey: '70B3D57ED00000E1', interfaceType: 'uplink_triggered', deviceDefinitions, codecs: [] });
  it('a TD FPort that is no application port is a 400 (the command is never queued); input.fPort overrides it', () => {
    for (const adapter of [ttsAdapter({}), chirpstackAdapter({})]) {
      expect(() => adapter.validate!('raw', raw, full({ networkDefinitions: { fport: 0 } }))).toThrow(expect.objectContaining({ status: 400, code: 'bad-downlink-fport' }));
      expect(() => adapter.validate!('raw', { ...raw, fPort: 3 }, full({ networkDefinitions: { fport: 0 } }))).not.toThrow();
      expect(() => adapter.validate!('raw', raw, full({ networkDefinitions: { fport: 2 } }))).not.toThrow();
    }
  });
});
