// Fuzz target: the web UI's parsers of the hub's answers (SSE stream buffers, JSON Pointer location in TD text).
import { takeEvents } from '../../../hub/ui/src/api.ts';
import { locatePointer } from '../../../hub/ui/src/json-pointer.ts';
import { enc, filesUnder, readAll, ROOT } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

const POINTERS = ['', '/', '/title', '/properties/temperature/type', '/actions/downlink/input/properties/payloadHex', '/links/0/href', '/a~1b/~0c', '/0', '/-'];

export const uiTarget: FuzzTarget = {
  name: 'ui-parsers',
  description: 'UI: SSE buffer splitting (takeEvents: rest is a suffix, re-feeding it yields nothing new) and locatePointer over TD texts (in range)',
  tokens: ['data:', 'data: ', '\r\n', '\r', '\n\n', ': heartbeat', '{', '}', '[', ']', '"', '\\"', ':', ',', '~1', '~0'],
  seeds() {
    const tds = readAll(filesUnder(`${ROOT}thing-models`, (n) => n.endsWith('.jsonld'), 20));
    return [...tds, enc('data: {"a":1}\n\n: heartbeat\n\ndata: 2\r\ndata: 3\r\n\r\ndata: part'), enc('data\n\n\r\r')];
  },
  run(input) {
    const s = text(input);
    const { events, rest } = takeEvents(s);
    if (!s.endsWith(rest)) throw new OracleError('the rest is not a suffix of the buffer');
    if (rest.length > s.length) throw new OracleError('rest longer than the buffer');
    const again = takeEvents(rest);
    if (again.events.length) throw new OracleError(`re-reading the rest found ${again.events.length} more events`);
    if (events.some((e) => typeof e !== 'string')) throw new OracleError('non-string event');
    const lines = s.split('\n').length;
    for (const p of POINTERS) {
      const at = locatePointer(s, p);
      if (at && (at.line < 1 || at.line > lines || at.column < 1)) throw new OracleError(`pointer ${p} located out of the text: ${JSON.stringify(at)}`);
    }
  },
};
