// Fuzz target: a registered TD's ioAdapterDefinitions / adapterScheme as the uplink pipeline's device-key index reads them.
import { DeviceIndex } from '../../../hub/routing/device-index.ts';
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
    '"uuid"', '"payloadCodec"', '"adapterScheme"', '"urn:wot-hub:codec:schc"', '"70-B3-D5-7E-D0-00-00-01"', '"__proto__"', 'null', '[]', '{}'],
  seeds: () => [
    ...readAll(filesUnder(`${SHARED}examples/flint/`, (n) => n.endsWith('.json'))),
    enc(JSON.stringify({ 'hub:ioAdapterDefinitions': [{ uuid: 'urn:wot-hub:adapter:lorawan', deviceDefinitions: { keyType: 'devEui', deviceKey: '70B3D57ED0000001', devAddr: '260B1234', payloadCodec: ['schc', 'senml-json'] } }],
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
    index.remove('urn:fuzz:a');
    for (const e of index.entriesOf('urn:fuzz:b')) {
      if (index.lookup(e.keyType, e.deviceKey)?.thingId !== 'urn:fuzz:b') throw new OracleError('the waiting claim did not take the key over');
    }
    index.remove('urn:fuzz:b');
    if (index.counters().keys !== 0 || index.counters().things !== 0) throw new OracleError('remove() left keys behind');
  },
};
