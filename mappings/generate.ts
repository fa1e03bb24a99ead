// Writes the hub's RML mapfiles (SOSA/SSN + NGSI-LD) for each payload type: `node --import tsx mappings/generate.ts`.
//
// Every observed property follows one pattern, so the mapfiles are generated rather than hand-copied. Each property has
// its own filtered logical source on hub:CurrentMessage (`$[?(@.payload.x != null)]`), so a message without that value
// yields no observation at all instead of an observation without result.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Obs {
  /** Local name of the generated nodes (unique in the file). */
  id: string;
  /** Filter condition on the envelope, e.g. `@.payload.decoded.temperature != null`. */
  when: string;
  /** Property name in IRIs: plain text, or a template fragment such as `{$.payload.name}`. */
  prop: string;
  /** JSONPath of the value. */
  value: string;
  datatype?: 'double' | 'string';
  /** QUDT unit local name, or `{ref}`: JSONPath of a unit symbol turned into a QUDT IRI by hub:qudtUnit. */
  unit?: string | { ref: string };
  /** UN/CEFACT code for NGSI-LD unitCode, or `{ref}` through hub:unitCode. */
  code?: string | { ref: string };
  /** JSONPath of the result time given to hub:toDateTime; default `$.meta.receivedAt` as xsd:dateTime. */
  time?: string;
}

const HEADER = `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
@prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ngsi-ld: <https://uri.etsi.org/ngsi-ld/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix : <https://w3id.org/wot-hub/mappings#> .
`;

const THING = 'things/{$.meta.thingId}';
const WHEN = '{$.meta.receivedAt}';
const ENTITY = 'urn:ngsi-ld:Device:{$.meta.thingId}';
const q = (s: string): string => JSON.stringify(s);

function fnCall(fn: string, ref: string, iri = false): string {
  return `[ ${iri ? 'rml:termType rml:IRI ; ' : ''}rml:functionExecution [ rml:function hub:${fn} ; rml:input [ rml:parameter hub:value ; rml:inputValueMap [ rml:reference ${q(ref)} ] ] ] ]`;
}

function timeMap(o: Obs): string {
  return o.time ? fnCall('toDateTime', o.time) : `[ rml:reference "$.meta.receivedAt" ; rml:datatype xsd:dateTime ]`;
}

function valueMap(o: Obs): string {
  return `[ rml:reference ${q(o.value)} ; rml:datatype xsd:${o.datatype ?? 'double'} ]`;
}

function source(id: string, when: string): string {
  return `:src_${id} a rml:LogicalSource ; rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ;
  rml:iterator ${q(`$[?(${when})]`)} .
`;
}

/** The thing itself (sensor and platform) and its NGSI-LD entity, once per message. */
export function thingMaps(): string {
  return `:src_message a rml:LogicalSource ; rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$" .

:thing a rml:TriplesMap ; rml:logicalSource :src_message ;
  rml:subjectMap [ rml:template ${q(THING)} ; rml:class sosa:Sensor , sosa:Platform ] .

:entity a rml:TriplesMap ; rml:logicalSource :src_message ;
  rml:subjectMap [ rml:template ${q(ENTITY)} ; rml:class <https://smartdatamodels.org/dataModel.Device/Device> ] ;
  rml:predicateObjectMap [ rml:predicate <https://uri.etsi.org/ngsi-ld/default-context/thing> ; rml:objectMap [ rml:template ${q(THING)} ] ] .
`;
}

/** sosa:Observation + qudt:QuantityValue result + NGSI-LD Property for one observed value. */
export function observation(o: Obs): string {
  const obs = `${THING}/observations/${WHEN}/${o.prop}`;
  const unit = o.unit === undefined ? '' : typeof o.unit === 'string' ? `rml:object unit:${o.unit}` : `rml:objectMap ${fnCall('qudtUnit', o.unit.ref, true)}`;
  const code = o.code === undefined ? '' : typeof o.code === 'string' ? `rml:object ${q(o.code)}` : `rml:objectMap ${fnCall('unitCode', o.code.ref)}`;
  const numeric = (o.datatype ?? 'double') === 'double';
  return `${source(o.id, o.when)}
:${o.id}_observation a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(obs)} ; rml:class sosa:Observation ] ;
  rml:predicateObjectMap
    [ rml:predicate sosa:madeBySensor ; rml:objectMap [ rml:template ${q(THING)} ] ] ,
    [ rml:predicate sosa:observedProperty ; rml:objectMap [ rml:template ${q(`${THING}/properties/${o.prop}`)} ] ] ,
    [ rml:predicate sosa:hasSimpleResult ; rml:objectMap ${valueMap(o)} ] ,
    [ rml:predicate sosa:resultTime ; rml:objectMap ${timeMap(o)} ]${numeric ? ` ,
    [ rml:predicate sosa:hasResult ; rml:objectMap [ rml:template ${q(`${obs}/result`)} ] ]` : ''} .
${numeric ? `
:${o.id}_result a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(`${obs}/result`)} ; rml:class qudt:QuantityValue ] ;
  rml:predicateObjectMap [ rml:predicate qudt:numericValue ; rml:objectMap ${valueMap(o)} ]${unit ? ` ,
    [ rml:predicate qudt:unit ; ${unit} ]` : ''} .
` : ''}
:${o.id}_ngsi a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(`${THING}/ngsi-ld/${WHEN}/${o.prop}`)} ; rml:class ngsi-ld:Property ] ;
  rml:predicateObjectMap
    [ rml:predicate ngsi-ld:hasValue ; rml:objectMap ${valueMap(o)} ] ,
    [ rml:predicate ngsi-ld:observedAt ; rml:objectMap ${timeMap(o)} ]${code ? ` ,
    [ rml:predicate ngsi-ld:unitCode ; ${code} ]` : ''} .

:${o.id}_entity a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(ENTITY)} ] ;
  rml:predicateObjectMap [
    rml:predicateMap [ rml:template ${q(`https://uri.etsi.org/ngsi-ld/default-context/${o.prop}`)} ] ;
    rml:objectMap [ rml:template ${q(`${THING}/ngsi-ld/${WHEN}/${o.prop}`)} ] ] .
`;
}

/** A GPS fix as a sosa:Observation whose result is a geo:Point, and an NGSI-LD location GeoProperty. */
export function location(id: string, base: string, time?: string): string {
  const obs = `${THING}/observations/${WHEN}/location`;
  const wkt = `POINT({${base}.longitude} {${base}.latitude})`;
  const t = time ? fnCall('toDateTime', time) : `[ rml:reference "$.meta.receivedAt" ; rml:datatype xsd:dateTime ]`;
  return `${source(id, `@${base.slice(1)}.latitude != null && @${base.slice(1)}.longitude != null`)}
:${id}_observation a rml:TriplesMap ; rml:logicalSource :src_${id} ;
  rml:subjectMap [ rml:template ${q(obs)} ; rml:class sosa:Observation ] ;
  rml:predicateObjectMap
    [ rml:predicate sosa:madeBySensor ; rml:objectMap [ rml:template ${q(THING)} ] ] ,
    [ rml:predicate sosa:observedProperty ; rml:objectMap [ rml:template ${q(`${THING}/properties/location`)} ] ] ,
    [ rml:predicate sosa:resultTime ; rml:objectMap ${t} ] ,
    [ rml:predicate sosa:hasResult ; rml:objectMap [ rml:template ${q(`${obs}/point`)} ] ] .

:${id}_point a rml:TriplesMap ; rml:logicalSource :src_${id} ;
  rml:subjectMap [ rml:template ${q(`${obs}/point`)} ; rml:class geo:Point ] ;
  rml:predicateObjectMap [ rml:predicate geo:asWKT ; rml:objectMap [ rml:template ${q(wkt)} ; rml:datatype geo:wktLiteral ] ] .

:${id}_ngsi a rml:TriplesMap ; rml:logicalSource :src_${id} ;
  rml:subjectMap [ rml:template ${q(ENTITY)} ] ;
  rml:predicateObjectMap [ rml:predicate ngsi-ld:location ; rml:objectMap [ rml:template ${q(`${THING}/ngsi-ld/${WHEN}/location`)} ] ] .

:${id}_geoproperty a rml:TriplesMap ; rml:logicalSource :src_${id} ;
  rml:subjectMap [ rml:template ${q(`${THING}/ngsi-ld/${WHEN}/location`)} ; rml:class ngsi-ld:GeoProperty ] ;
  rml:predicateObjectMap [ rml:predicate ngsi-ld:hasValue ; rml:objectMap [ rml:template ${q(wkt)} ; rml:datatype geo:wktLiteral ] ] ,
    [ rml:predicate ngsi-ld:observedAt ; rml:objectMap ${t} ] .
`;
}

/** One numeric (or string) value at `path`, present only when the value is; `extra.when` adds a message filter. */
const scalar = (id: string, path: string, prop: string, unit?: string, code?: string, extra: Partial<Obs> = {}): Obs => ({
  ...extra,
  id,
  when: `@${path.slice(1)} != null${extra.when ? ` && ${extra.when}` : ''}`,
  prop,
  value: path,
  unit,
  code,
});

function file(name: string, comment: string, parts: string[]): void {
  writeFileSync(join(import.meta.dirname, name), `# ${comment}\n# Generated by mappings/generate.ts; edit that file, not this one.\n${HEADER}\n${thingMaps()}\n${parts.join('\n')}`);
}

const cayenneTypes: Array<[string, string, string | undefined]> = [
  ['temperature', 'DEG_C', 'CEL'], ['relative_humidity', 'PERCENT', 'P1'], ['barometric_pressure', 'HectoPA', 'A97'],
  ['analog_in', 'UNITLESS', 'C62'], ['luminosity', 'LUX', 'LUX'],
];
const channels = [1, 2, 3, 4, 5, 6, 7, 8];

export function generateAll(): void {
  file('lorawan-uplink.ttl', 'LoRaWAN uplink (The Things Stack v3 / ChirpStack v4, normalised by the LoRaWAN binding): decoded fields + radio metadata.', [
    observation(scalar('temperature', '$.payload.decoded.temperature', 'temperature', 'DEG_C', 'CEL')),
    observation(scalar('humidity', '$.payload.decoded.humidity', 'humidity', 'PERCENT', 'P1')),
    observation(scalar('luminosity', '$.payload.decoded.luminosity', 'luminosity', 'UNITLESS', 'C62')),
    observation(scalar('battery', '$.payload.decoded.battery', 'battery', 'V', 'VLT')),
    observation(scalar('rssi', '$.payload.gateways[0].rssi', 'rssi', 'DeciB_M')),
    observation(scalar('snr', '$.payload.gateways[0].snr', 'snr', 'DeciB', '2N')),
  ]);
  file('lorawan-cayenne.ttl', 'LoRaWAN uplink with a Cayenne LPP payload (decoded keys <type>_<channel>, as The Things Stack names them).', [
    ...cayenneTypes.flatMap(([t, u, c]) => channels.map((ch) => observation(scalar(`${t}_${ch}`, `$.payload.decoded.${t}_${ch}`, `${t}_${ch}`, u, c)))),
    ...channels.flatMap((ch) => ['x', 'y', 'z'].map((ax) => observation(scalar(`accelerometer_${ch}_${ax}`, `$.payload.decoded.accelerometer_${ch}.${ax}`, `accelerometer_${ch}_${ax}`, 'G')))),
    location('gps', '$.payload.decoded.gps_1'),
    observation(scalar('rssi', '$.payload.gateways[0].rssi', 'rssi', 'DeciB_M')),
  ]);
  file('sigfox-callback.ttl', 'Sigfox data callback (normalised by the Sigfox binding): radio metadata, device time via hub:toDateTime.', [
    observation(scalar('rssi', '$.payload.rssi', 'rssi', 'DeciB_M', undefined, { time: '$.payload.timeIso' })),
    observation(scalar('snr', '$.payload.snr', 'snr', 'DeciB', '2N', { time: '$.payload.timeIso' })),
    observation(scalar('seq', '$.payload.seqNumber', 'sequenceNumber', 'UNITLESS', 'C62', { time: '$.payload.timeIso' })),
    observation(scalar('temperature', '$.payload.decoded.temperature', 'temperature', 'DEG_C', 'CEL', { time: '$.payload.timeIso' })),
  ]);
  file('obd-pid.ttl', 'OBD-II: one decoded PID ({name, value, unit}) per message, with an optional GPS fix (NMEA RMC, decoded).', [
    observation({ id: 'pid', when: '@.payload.value != null && @.payload.name != null', prop: '{$.payload.name}', value: '$.payload.value', unit: { ref: '$.payload.unit' }, code: { ref: '$.payload.unit' } }),
    observation(scalar('speed', '$.payload.gps.speedKmh', 'gpsSpeed', 'KiloM-PER-HR', 'KMH')),
    location('gps', '$.payload.gps', '$.payload.gps.datetime'),
  ]);
  file('ngimu-osc.ttl', 'x-io NGIMU over OSC: /euler (deg), /linear and /earth (g), /battery; args decoded to named values.', [
    ...['roll', 'pitch', 'yaw'].map((a) => observation(scalar(`euler_${a}`, `$.payload.args.${a}`, a, 'DEG', 'DD', { when: "@.payload.address == '/euler'" }))),
    ...['linear', 'earth'].flatMap((k) => ['x', 'y', 'z'].map((a) => observation(scalar(`${k}_${a}`, `$.payload.args.${a}`, `${k}Acceleration_${a}`, 'G', undefined, { when: `@.payload.address == '/${k}'` })))),
    observation(scalar('battery_pct', '$.payload.args.percentage', 'batteryPercentage', 'PERCENT', 'P1', { when: "@.payload.address == '/battery'" })),
    observation(scalar('battery_v', '$.payload.args.voltageV', 'batteryVoltage', 'V', 'VLT', { when: "@.payload.address == '/battery'" })),
  ]);
  file('cookie.ttl', 'Cookie messages (JSON form): bt-detection (MAC, RSSI) and radar-count (vehicle count, velocities).', [
    observation({ ...scalar('bt_mac', '$.payload.payload.mac', 'btDetection', undefined, undefined, { when: "@.payload.type == 'bt-detection'", time: '$.payload.payload.time' }), datatype: 'string' }),
    observation(scalar('bt_rssi', '$.payload.payload.rssi', 'btRssi', 'DeciB_M', undefined, { when: "@.payload.type == 'bt-detection'", time: '$.payload.payload.time' })),
    observation(scalar('radar_count', '$.payload.payload.count', 'vehicleCount', 'UNITLESS', 'C62', { when: "@.payload.type == 'radar-count'", time: '$.payload.payload.timestamp' })),
    // Each velocity of a count (km/h, sign = direction) on the count's observation, as hub:vehicleVelocity values.
    `:radar_velocities a rml:TriplesMap ; rml:logicalSource :src_radar_count ;
  rml:subjectMap [ rml:template ${q(`${THING}/observations/${WHEN}/vehicleCount`)} ] ;
  rml:predicateObjectMap [ rml:predicate hub:vehicleVelocity ; rml:objectMap [ rml:reference "$.payload.payload.velocities[*]" ; rml:datatype xsd:double ] ] .
`,
  ]);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) generateAll();
