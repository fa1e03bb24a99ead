// Fuzz target: a registered TD's ioAdapterDefinitions / adapterScheme as the uplink pipeline's device-key index reads them.
import { applyPropertyNames, DeviceIndex, propertyNamesOf } from '../../../hub/routing/device-index.ts';
import { PayloadTooLargeError, ValidationError } from '../../../hub/errors.ts';
import { MAX_VALUES, jsonSize } from '../../../hub/directory/validator.ts';

import { SHARED, enc, filesUnder, readAll } from '../corpus.ts';
import { jsonText } from '../generators.ts';
import { OracleError, type FuzzTarget } from '../target.ts';
import { parseJsonBody } from './td.ts';

export const deviceIndexTarget: FuzzTarget = {
  name: 'device-index',
  description: 'TD JSON -> DeviceIndex.put (ioAdapterDefinitions, keys, codec chains) -> every indexed key looks up to its Thing; remove() releases all',
  tokens: ['"ioAdapterDefinitions"', '"hub:ioAdapterDefinitions"', '"deviceDefinitions"', '"keyType"', '"deviceKey"', '"devEui"', '"devAddr"', '"mac"', '"sigfoxId"',
    '"uuid"', '"payloadCodec"', '"propertyNames"', '"temperature_1"', '"constructor"', '"adapterScheme"', '"urn:wot-hub:codec:schc"', '"70-B3-D5-7E-D0-00-00-01"', '"__proto__"', 'null', '[]', '{}'],
  seeds: () => [
    ...readAll(filesUnder(`${SHARED}examples/flint/`, (n) => n.endsWith('.json'))),
    enc(JSON.stringify({ 'hub:ioAdapterDefinitions': [{ uuid: 'urn:wot-hub:adapter:lorawan', deviceDefinitions: { keyType: 'devEui', deviceKey: '70B3D57ED0000001', devAddr: '260B1234', payloadCodec: ['schc', 'senml-json'], propertyNames: { temperature_1: 'temperature', analog_in_3: 'battery' } } }],
      'hub:adapterScheme': [[['urn:wot-hub:adapter:lorawan'], ['urn:wot-hub:codec:schc'], ['urn:wot-hub:adapter:mapping']]] })),
  ],
  generate: (rng) => enc(jsonText(rng)),
  run(input) {
    // What reaches the index passed the directory (1 MiB bodies, at most MAX_VALUES JSON values). Inputs are capped at
    // 64 KiB here so that the time measured is the index's, not JSON.parse's (the td target covers the directory's path).
    if (input.length > 64 * 1024) throw new PayloadTooLargeError('input over the 64 KiB this target feeds the index');
    const td = parseJsonBody(input);
    if (jsonSize(td, MAX_VALUES) > MAX_VALUES) throw new ValidationError('TD over the value limit', [{ field: '/', description: 'too many values' }]);
    const index = new DeviceIndex();
    index.put('urn:fuzz:a', td as Record<string, unknown>);
    index.put('urn:fuzz:b', td as Record<string, unknown>); // the same keys again: refused, waiting
    for (const e of index.entriesOf('urn:fuzz:a')) {
      if (index.lookup(e.keyType, e.deviceKey)?.thingId !== 'urn:fuzz:a') throw new OracleError(`key ${e.keyType} ${e.deviceKey} does not look up to its owner`);
    }
    // propertyNames: the renamed message has only the message's keys or the TD's names, and no prototype is touched.
    for (const e of index.entriesOf('urn:fuzz:a')) {
      const names = propertyNamesOf(e.deviceDefinitions);
      const decoded: Record<string, unknown> = Object.fromEntries(names.map(([from], i) => [from, i]));
      decoded.other_9 = 'kept';
      const out = applyPropertyNames(decoded, e.deviceDefinitions);
      const allowed = new Set([...Object.keys(decoded), ...names.map(([, to]) => to)]);
      for (const k of Object.keys(out)) if (!allowed.has(k)) throw new OracleError(`propertyNames produced key ${k}`);
      if (Object.getPrototypeOf(out) !== Object.prototype || ({} as Record<string, unknown>).polluted !== undefined) throw new OracleError('propertyNames touched a prototype');
    }
    const isTd = typeof td === 'object' && td !== null && !Array.isArray(td);
    if (isTd && index.lookup('thingId', 'urn:fuzz:a')?.thingId !== 'urn:fuzz:a') throw new OracleError('a registered Thing is not found by its id');
    index.remove('urn:fuzz:a');
    if (index.lookup('thingId', 'urn:fuzz:a') && index.lookup('thingId', 'urn:fuzz:a')!.thingId === 'urn:fuzz:a') throw new OracleError('a removed Thing is still found by its id');
    for (const e of index.entriesOf('urn:fuzz:b')) {
      if (index.lookup(e.keyType, e.deviceKey)?.thingId !== 'urn:fuzz:b') throw new OracleError('the waiting claim did not take the key over');
    }
    index.remove('urn:fuzz:b');
    if (index.counters().keys !== 0 || index.counters().things !== 0) throw new OracleError('remove() left keys behind');
  },
};
