// End to end through a listening hub: curl posts TTS, ChirpStack and Sigfox webhooks; the uplink pipeline maps them
// (shipped mapfiles) into the durable store; SPARQL finds value, unit, time and device, and the Thing's live property.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, startTestHub, type TestHub } from '../../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ns: Array<{ id: string; input: any }> = JSON.parse(readFileSync('/work/shared/vectors/network_servers.json', 'utf8'));
const nsJson: Array<{ kind: string; input: any }> = JSON.parse(readFileSync('/work/shared/vectors/network_server_json.json', 'utf8'));
const vector = (id: string) => structuredClone(ns.find((v) => v.id === id)!.input);

const TTS_ID = 'urn:dev:lorawan:70B3D52DD600035A';
const CS_ID = 'urn:dev:lorawan:0101010101010101';
const SF_ID = 'urn:dev:sigfox:B443A5';

interface CurlResult {
  status: number;
  body: string;
}

/** POSTs with the real curl (bounded: 10 s), returning the status and body. */
function curl(url: string, body: string, headers: Record<string, string>, method = 'POST'): Promise<CurlResult> {
  const args = ['-s', '-S', '--max-time', '10', '-X', method, '-o', '-', '-w', '\n%{http_code}', url];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (method !== 'GET') args.push('--data-binary', '@-');
  return new Promise((resolve, reject) => {
    const child = execFile('curl', args, { timeout: 15_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
    child.stdin!.end(method === 'GET' ? '' : body);
  });
}

describe('network-server webhooks end to end (curl -> hub -> pipeline -> store -> SPARQL)', () => {
  let hub: TestHub;
  let base: string;
  const json = () => ({ authorization: hub.bearer, 'content-type': 'application/json' });

  const sparql = async (query: string) => {
    const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(query)}`, headers: { accept: 'application/sparql-results+json', authorization: hub.bearer } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.bindings as Array<Record<string, { value: string; datatype?: string }>>;
  };
  /** Observations of `property` made by the Thing (value, unit, result time), polled until `count` are visible. */
  const observations = async (thingId: string, property: string, count = 1) => {
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}`;
    const query = `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
      SELECT ?o ?v ?t ?unit WHERE { GRAPH ?g {
        ?o a sosa:Observation ; sosa:madeBySensor <${thing}> ; sosa:observedProperty <${thing}/properties/${property}> ;
           sosa:hasSimpleResult ?v ; sosa:resultTime ?t .
        OPTIONAL { ?o sosa:hasResult ?r . ?r qudt:unit ?unit } } }`;
    // Stored means durable in the log; the store's worker applies it a moment later.
    const end = Date.now() + 5000;
    for (;;) {
      const rows = await sparql(query);
      if (rows.length >= count || Date.now() > end) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const live = async (thingId: string, property: string) => {
    const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(thingId)}/properties/${property}`, headers: { authorization: hub.bearer } });
    return res.statusCode === 200 ? res.json() : undefined;
  };

  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
    base = baseUrlOf(hub);
    for (const name of ['lorawan-uplink', 'sigfox-callback']) {
      const put = await hub.app.inject({ method: 'PUT', url: `/mappings/${name}`, headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, `mappings/${name}.ttl`), 'utf8') });
      expect(put.statusCode, put.body).toBe(201);
    }
    const register = async (model: string, id: string, placeholders: Record<string, unknown>) => {
      const res = await hub.app.inject({ method: 'POST', url: `/thing-models/${model}/instantiate?register=true`, headers: { authorization: hub.bearer }, payload: { id, placeholders } });
      expect(res.statusCode, res.body).toBe(201);
    };
    const lorawan = { FPORT: 2, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink', DEV_ADDR: '', PAYLOAD_CODEC: 'network-server' };
    await register('lorawan-sensor', TTS_ID, { ...lorawan, TITLE: 'TTS sensor', DEV_EUI: '70B3D52DD600035A' });
    await register('lorawan-sensor', CS_ID, { ...lorawan, TITLE: 'ChirpStack sensor', DEV_EUI: '0101010101010101' });
    await register('sigfox-device', SF_ID, { TITLE: 'Sigfox device', SIGFOX_ID: 'B443A5', ADAPTER_ID: 'urn:wot-hub:adapter:sigfox', MAPPING: 'sigfox-callback', PAYLOAD_CODEC: 'network-server' });
  });
  afterAll(() => hub?.stop());

  it('TTS: a webhook uplink becomes a SOSA observation with value, unit, NS time and device; stored once when redelivered', async () => {
    const body = vector('tts-uplink-starterkit-webhook');
    body.uplink_message.decoded_payload = { temperature: 21.5, humidity: 40 };
    const first = await curl(`${base}/bindings/tts/uplink`, JSON.stringify(body), json());
    expect(first.status, first.body).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ status: 'stored', thingId: TTS_ID, messageId: '14-1744804453787' });
    const rows = await observations(TTS_ID, 'temperature');
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.v!.value)).toBe(21.5);
    expect(rows[0]!.t!.value).toBe('2025-04-16T11:54:13.787593298Z');
    expect(rows[0]!.unit?.value).toBe('http://qudt.org/vocab/unit/DEG_C');
    expect(await live(TTS_ID, 'temperature')).toBe(21.5);
    // TTS retries a webhook that timed out: the same message is acknowledged again and written once.
    const again = await curl(`${base}/bindings/tts/uplink`, JSON.stringify(body), json());
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).status).toBe('duplicate');
    expect(await observations(TTS_ID, 'temperature')).toHaveLength(1);
  });

  it('TTS: link quality per gateway, the Packet Broker relay counted once', async () => {
    const body = structuredClone(nsJson.filter((v) => v.kind === 'tts-v3-uplink')[1]!.input);
    body.end_device_ids.dev_eui = '70B3D52DD600035A';
    body.uplink_message.decoded_payload = { temperature: 22.6 };
    const res = await curl(`${base}/bindings/tts/uplink`, JSON.stringify(body), json());
    expect(res.status, res.body).toBe(200);
    expect(await live(TTS_ID, 'rssi')).toBe(-24);
    await observations(TTS_ID, 'temperature', 2);
    const links = await sparql(`PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT DISTINCT ?foi WHERE { GRAPH ?g {
      ?o sosa:hasFeatureOfInterest ?foi ; sosa:resultTime "2023-05-18T08:25:25.906399073Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> } }`);
    expect(links.map((l) => l.foi!.value).filter((v) => /6A7E111A10000000|packetbroker/i.test(v))).toHaveLength(1);
  });

  it('ChirpStack: ?event=up becomes an observation; ?event=join is reported, not stored', async () => {
    const body = vector('chirpstack-up-docs');
    body.object = { temperature: 19.25 };
    body.fCnt = 7;
    const res = await curl(`${base}/bindings/chirpstack/uplink?event=up`, JSON.stringify(body), json());
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'stored', thingId: CS_ID });
    const rows = await observations(CS_ID, 'temperature');
    // The store writes xsd:dateTime canonically (+00:00 as Z); the instant is ChirpStack's `time`.
    expect(rows.map((r) => [Number(r.v!.value), r.t!.value])).toEqual([[19.25, '2022-07-18T09:34:15.775023242Z']]);
    expect(await live(CS_ID, 'temperature')).toBe(19.25);
    const join = await curl(`${base}/bindings/chirpstack/uplink?event=join`, JSON.stringify(vector('chirpstack-join-docs')), json());
    expect(join.status).toBe(200);
    expect(JSON.parse(join.body)).toMatchObject({ status: 'reported', event: 'join' });
  });

  it('Sigfox: a callback with quoted values becomes a sequence-number observation at the device time', async () => {
    const body = { ...nsJson.filter((v) => v.kind === 'sigfox-callback')[1]!.input, sigfoxId: 'B443A5', seqNumber: '12' };
    const res = await curl(`${base}/bindings/sigfox/callback`, JSON.stringify(body), { authorization: hub.bearer, 'content-type': 'text/plain' });
    expect(res.status, res.body).toBe(200);
    const rows = await observations(SF_ID, 'sequenceNumber');
    expect(rows.map((r) => [Number(r.v!.value), Date.parse(r.t!.value)])).toEqual([[12, Date.parse('2020-08-06T13:45:46Z')]]);
    const form = await curl(`${base}/bindings/sigfox/callback`, 'device=B443A5&time=1600674364&data=ce20&seqNumber=13&station=93CF&rssi=-128&snr=6', {
      authorization: hub.bearer, 'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status, form.body).toBe(200);
    expect(await observations(SF_ID, 'sequenceNumber', 2)).toHaveLength(2);
  });

  it('bad input is refused with typed problems and the hub keeps serving', async () => {
    const unknown = vector('tts-uplink-starterkit-webhook');
    unknown.end_device_ids.dev_eui = 'FFFFFFFFFFFFFFFF';
    const u = await curl(`${base}/bindings/tts/uplink`, JSON.stringify(unknown), json());
    expect(u.status).toBe(404);
    expect(JSON.parse(u.body).code).toBe('unknown-device');
    const malformed = await curl(`${base}/bindings/chirpstack/uplink?event=up`, '{"deviceInfo": {', json());
    expect(malformed.status).toBe(400);
    const typed = await curl(`${base}/bindings/sigfox/callback`, JSON.stringify({ device: 'B443A5', time: 1, data: 'xyz', seqNumber: 1 }), json());
    expect(typed.status).toBe(422);
    expect(JSON.parse(typed.body)).toMatchObject({ code: 'decode-failed', field: 'data' });
    const noToken = await curl(`${base}/bindings/tts/uplink`, '{}', { 'content-type': 'application/json' });
    expect(noToken.status).toBe(401);
    const big = await curl(`${base}/bindings/tts/uplink`, JSON.stringify({ filler: 'x'.repeat(300 * 1024) }), json());
    expect(big.status).toBe(413);
    const health = await curl(`${base}/health`, '', {}, 'GET');
    expect(health.status).toBe(200);
    // Counted on the adapter Things (TTS and ChirpStack count on the LoRaWAN adapter, Sigfox on its own).
    const byCode = async (kind: string) => (await live(`urn:wot-hub:adapter:${kind}`, 'rejectedByCode')) as Record<string, number> | undefined;
    expect(await byCode('lorawan')).toMatchObject({ 'unknown-device': 1, 'bad-json': 1 });
    expect((await byCode('lorawan'))!['payload-too-large']).toBeGreaterThanOrEqual(1);
    expect(await byCode('sigfox')).toMatchObject({ 'decode-failed': 1 });
  });
});
