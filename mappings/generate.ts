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
  /** JSONPath of the result time given to hub:toDateTime; default `$.meta.observedAt` as xsd:dateTime. */
  time?: string;
  /** IRI suffix of the observation under the message (default `prop`); distinct when one message has several. */
  key?: string;
  /** IRI template of the sosa:FeatureOfInterest (e.g. a radio link), when it is not the Thing itself. */
  foi?: string;
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
/**
 * Observations are keyed by the device's message (meta.messageId: device key + frame counter or sequence number, or
 * the device's own time), never by the hub's arrival time: two messages in one millisecond stay two observations, and
 * a redelivered message writes the same triples again.
 */
const MSG = '{$.meta.messageId}';
const TIME = '$.meta.observedAt';
const ENTITY = 'urn:ngsi-ld:Device:{$.meta.thingId}';
const q = (s: string): string => JSON.stringify(s);

function fnCall(fn: string, ref: string, iri = false): string {
  return `[ ${iri ? 'rml:termType rml:IRI ; ' : ''}rml:functionExecution [ rml:function hub:${fn} ; rml:input [ rml:parameter hub:value ; rml:inputValueMap [ rml:reference ${q(ref)} ] ] ] ]`;
}

function timeMap(o: Obs): string {
  return o.time ? fnCall('toDateTime', o.time) : `[ rml:reference ${q(TIME)} ; rml:datatype xsd:dateTime ]`;
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
  const key = o.key ?? o.prop;
  const obs = `${THING}/observations/${MSG}/${key}`;
  const ngsi = `${THING}/ngsi-ld/${MSG}/${key}`;
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
    [ rml:predicate sosa:resultTime ; rml:objectMap ${timeMap(o)} ]${o.foi ? ` ,
    [ rml:predicate sosa:hasFeatureOfInterest ; rml:objectMap [ rml:template ${q(o.foi)} ] ]` : ''}${numeric ? ` ,
    [ rml:predicate sosa:hasResult ; rml:objectMap [ rml:template ${q(`${obs}/result`)} ] ]` : ''} .
${numeric ? `
:${o.id}_result a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(`${obs}/result`)} ; rml:class qudt:QuantityValue ] ;
  rml:predicateObjectMap [ rml:predicate qudt:numericValue ; rml:objectMap ${valueMap(o)} ]${unit ? ` ,
    [ rml:predicate qudt:unit ; ${unit} ]` : ''} .
` : ''}
:${o.id}_ngsi a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(ngsi)} ; rml:class ngsi-ld:Property ] ;
  rml:predicateObjectMap
    [ rml:predicate ngsi-ld:hasValue ; rml:objectMap ${valueMap(o)} ] ,
    [ rml:predicate ngsi-ld:observedAt ; rml:objectMap ${timeMap(o)} ]${o.foi ? ` ,
    [ rml:predicate ngsi-ld:datasetId ; rml:objectMap [ rml:template ${q(o.foi)} ] ]` : ''}${code ? ` ,
    [ rml:predicate ngsi-ld:unitCode ; ${code} ]` : ''} .

:${o.id}_entity a rml:TriplesMap ; rml:logicalSource :src_${o.id} ;
  rml:subjectMap [ rml:template ${q(ENTITY)} ] ;
  rml:predicateObjectMap [
    rml:predicateMap [ rml:template ${q(`https://uri.etsi.org/ngsi-ld/default-context/${o.prop}`)} ] ;
    rml:objectMap [ rml:template ${q(ngsi)} ] ] .
`;
}

/** A GPS fix as a sosa:Observation whose result is a geo:Point, and an NGSI-LD location GeoProperty. */
export function location(id: string, base: string, time?: string): string {
  const obs = `${THING}/observations/${MSG}/location`;
  const wkt = `POINT({${base}.longitude} {${base}.latitude})`;
  const t = time ? fnCall('toDateTime', time) : `[ rml:reference ${q(TIME)} ; rml:datatype xsd:dateTime ]`;
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
  rml:predicateObjectMap [ rml:predicate ngsi-ld:location ; rml:objectMap [ rml:template ${q(`${THING}/ngsi-ld/${MSG}/location`)} ] ] .

:${id}_geoproperty a rml:TriplesMap ; rml:logicalSource :src_${id} ;
  rml:subjectMap [ rml:template ${q(`${THING}/ngsi-ld/${MSG}/location`)} ; rml:class ngsi-ld:GeoProperty ] ;
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
/** The lorawan-sensor Thing Model's properties (its propertyNames rename Cayenne keys to them): [name, QUDT unit, code]. */
const lorawanSensorProperties: Array<[string, string, string]> = [['temperature', 'DEG_C', 'CEL'], ['humidity', 'PERCENT', 'P1'], ['battery', 'V', 'VLT']];

/** Receptions mapped per message ($.payload.radio[0..n-1]); a frame heard by more gateways keeps the first ones. */
export const MAX_RECEPTIONS = 4;

/**
 * Link quality: per reception (`$.payload.radio[i]`: one gateway or base station), an RSSI and an SNR observation
 * whose feature of interest is the radio link device -> gateway (`things/{id}/links/{gatewayId}`, a hub:RadioLink).
 */
export function radioLinks(): string[] {
  const out: string[] = [];
  for (let i = 0; i < MAX_RECEPTIONS; i++) {
    const r = `$.payload.radio[${i}]`;
    const gw = `{${r}.gatewayId}`;
    const link = `${THING}/links/${gw}`;
    const when = `@.payload.radio[${i}].gatewayId != null`;
    out.push(
      observation(scalar(`rssi_${i}`, `${r}.rssi`, 'rssi', 'DeciB_M', undefined, { when, key: `rssi/${gw}`, foi: link })),
      observation(scalar(`snr_${i}`, `${r}.snr`, 'snr', 'DeciB', '2N', { when, key: `snr/${gw}`, foi: link })),
      `${source(`link_${i}`, when)}
:link_${i} a rml:TriplesMap ; rml:logicalSource :src_link_${i} ;
  rml:subjectMap [ rml:template ${q(link)} ; rml:class sosa:FeatureOfInterest , hub:RadioLink ] ;
  rml:predicateObjectMap
    [ rml:predicate hub:device ; rml:objectMap [ rml:template ${q(THING)} ] ] ,
    [ rml:predicate hub:gatewayId ; rml:objectMap [ rml:reference ${q(`${r}.gatewayId`)} ] ] .
`,
    );
  }
  return out;
}

/** SenML records mapped per message ($.payload.decoded.records[0..n-1], as the senml-json / senml-cbor codecs give them). */
export const MAX_SENML_RECORDS = 8;

/** One observation per numeric SenML record: property = the record's name, unit from its SenML unit symbol. */
export function senmlRecords(): string[] {
  return Array.from({ length: MAX_SENML_RECORDS }, (_, i) => {
    const r = `$.payload.decoded.records[${i}]`;
    return observation({
      id: `senml_${i}`,
      when: `@.payload.decoded.records[${i}].v != null && @.payload.decoded.records[${i}].n != null`,
      prop: `{${r}.n}`,
      key: `senml-${i}`,
      value: `${r}.v`,
      unit: { ref: `${r}.u` },
      code: { ref: `${r}.u` },
    });
  });
}

/** OBD-II mode 01 values as hub/bindings/obd/pids.ts names them: [name, QUDT unit, UN/CEFACT code]. */
const obdProperties: Array<[string, string, string | undefined]> = [
  ['speed', 'KiloM-PER-HR', 'KMH'], ['rpm', 'REV-PER-MIN', 'RPM'], ['coolantTemperature', 'DEG_C', 'CEL'],
  ['engineLoad', 'PERCENT', 'P1'], ['fuelLevel', 'PERCENT', 'P1'], ['intakeTemperature', 'DEG_C', 'CEL'],
  ['intakeManifoldPressure', 'KiloPA', 'KPA'], ['timingAdvance', 'DEG', 'DD'], ['maf', 'GM-PER-SEC', undefined],
  ['throttlePosition', 'PERCENT', 'P1'], ['runTime', 'SEC', 'SEC'], ['distanceWithMil', 'KiloM', 'KMT'],
  ['distanceSinceCodesCleared', 'KiloM', 'KMT'], ['barometricPressure', 'KiloPA', 'KPA'], ['controlModuleVoltage', 'V', 'VLT'],
  ['ambientTemperature', 'DEG_C', 'CEL'], ['oilTemperature', 'DEG_C', 'CEL'], ['fuelRate', 'L-PER-HR', 'E32'],
  ['dtcCount', 'UNITLESS', 'C62'],
];
/** DTCs mapped per poll cycle (payload.decoded.dtcs[0..n-1]), each a string observation. */
export const MAX_OBD_DTCS = 8;

const sequence = observation(scalar('frame_counter', '$.payload.sequence', 'frameCounter', 'UNITLESS', 'C62'));

export function generateAll(): void {
  file('lorawan-uplink.ttl', 'LoRaWAN uplink (any network server or the packet forwarder, as the uplink pipeline hands it): decoded fields, frame counter, link quality per gateway, network location.', [
    observation(scalar('temperature', '$.payload.decoded.temperature', 'temperature', 'DEG_C', 'CEL')),
    observation(scalar('humidity', '$.payload.decoded.humidity', 'humidity', 'PERCENT', 'P1')),
    observation(scalar('luminosity', '$.payload.decoded.luminosity', 'luminosity', 'UNITLESS', 'C62')),
    observation(scalar('battery', '$.payload.decoded.battery', 'battery', 'V', 'VLT')),
    sequence,
    ...radioLinks(),
    location('location', '$.payload.location'),
  ]);
  file('lorawan-cayenne.ttl', 'LoRaWAN uplink with a Cayenne LPP payload (decoded keys <type>_<channel>, as the cayenne-lpp codec and The Things Stack name them; keys the TD renames through deviceDefinitions.propertyNames to the lorawan-sensor properties temperature, humidity, battery).', [
    ...lorawanSensorProperties.map(([p, u, c]) => observation(scalar(p, `$.payload.decoded.${p}`, p, u, c))),
    ...cayenneTypes.flatMap(([t, u, c]) => channels.map((ch) => observation(scalar(`${t}_${ch}`, `$.payload.decoded.${t}_${ch}`, `${t}_${ch}`, u, c)))),
    ...channels.flatMap((ch) => ['x', 'y', 'z'].map((ax) => observation(scalar(`accelerometer_${ch}_${ax}`, `$.payload.decoded.accelerometer_${ch}.${ax}`, `accelerometer_${ch}_${ax}`, 'G')))),
    location('gps', '$.payload.decoded.gps_1'),
    sequence,
    ...radioLinks(),
  ]);
  file('sigfox-callback.ttl', 'Sigfox uplink (callback, as the uplink pipeline hands it): decoded fields, sequence number, link quality per base station, computed location; device time.', [
    observation(scalar('seq', '$.payload.sequence', 'sequenceNumber', 'UNITLESS', 'C62')),
    observation(scalar('temperature', '$.payload.decoded.temperature', 'temperature', 'DEG_C', 'CEL')),
    ...radioLinks(),
    location('location', '$.payload.location'),
  ]);
  file('schc-senml.ttl', 'SCHC-compressed CoAP carrying SenML (decompressed by the schc codec, decoded by senml-json / senml-cbor): one observation per record, link quality per gateway.', [
    ...senmlRecords(),
    sequence,
    ...radioLinks(),
  ]);
  file('obd-pid.ttl', 'OBD-II: a poll cycle (payload.decoded: named PID values, dtcs; payload.location: the aligned GPS fix), as hub/bindings/obd hands it; also one decoded PID ({name, value, unit}) per message with an optional GPS fix.', [
    ...obdProperties.map(([name, u, c]) => observation(scalar(`v_${name}`, `$.payload.decoded.${name}`, name, u, c))),
    ...Array.from({ length: MAX_OBD_DTCS }, (_, i) => observation({ ...scalar(`v_dtc_${i}`, `$.payload.decoded.dtcs[${i}]`, 'diagnosticTroubleCode', undefined, undefined, { key: `dtc-${i}` }), datatype: 'string' })),
    observation(scalar('v_gps_speed', '$.payload.decoded.gps.speedKmh', 'gpsSpeed', 'KiloM-PER-HR', 'KMH')),
    location('v_location', '$.payload.location'),
    observation({ id: 'pid', when: '@.payload.value != null && @.payload.name != null', prop: '{$.payload.name}', value: '$.payload.value', unit: { ref: '$.payload.unit' }, code: { ref: '$.payload.unit' } }),
    observation(scalar('speed', '$.payload.gps.speedKmh', 'gpsSpeed', 'KiloM-PER-HR', 'KMH')),
    location('gps', '$.payload.gps', '$.payload.gps.datetime'),
  ]);
  // ngimu-osc.ttl is not generated here: it is maintained by hand since the osc binding's payload shape
  // ($.payload.decoded.{address,args}); regenerating the old section would overwrite it.
  file('cookie.ttl', 'Cookie messages (JSON form): bt-detection (MAC, RSSI) and radar-count (vehicle count, velocities).', [
    observation({ ...scalar('bt_mac', '$.payload.payload.mac', 'btDetection', undefined, undefined, { when: "@.payload.type == 'bt-detection'", time: '$.payload.payload.time' }), datatype: 'string' }),
    observation(scalar('bt_rssi', '$.payload.payload.rssi', 'btRssi', 'DeciB_M', undefined, { when: "@.payload.type == 'bt-detection'", time: '$.payload.payload.time' })),
    observation(scalar('radar_count', '$.payload.payload.count', 'vehicleCount', 'UNITLESS', 'C62', { when: "@.payload.type == 'radar-count'", time: '$.payload.payload.timestamp' })),
    // Each velocity of a count (km/h, sign = direction) on the count's observation, as hub:vehicleVelocity values.
    `:radar_velocities a rml:TriplesMap ; rml:logicalSource :src_radar_count ;
  rml:subjectMap [ rml:template ${q(`${THING}/observations/${MSG}/vehicleCount`)} ] ;
  rml:predicateObjectMap [ rml:predicate hub:vehicleVelocity ; rml:objectMap [ rml:reference "$.payload.payload.velocities[*]" ; rml:datatype xsd:double ] ] .
`,
  ]);
  // Cookie frames as hub/bindings/cookie hands them to the pipeline (payload.decoded: the message's values; payload.network: its header).
  const cookieData = (type: string): string => `@.payload.network.type == '${type}' && @.payload.network.action == 'data'`;
  file('cookie-uplink.ttl', 'Cookie frames through the uplink pipeline (TCP streams, MQTT cookie/{gatewayId}/up|json): BT detections (MAC, RSSI, class), radar counts and velocities, device status, weighted travel times; times from the message (meta.observedAt).', [
    observation({ ...scalar('c_bt_mac', '$.payload.decoded.mac', 'btDetection', undefined, undefined, { when: cookieData('bt-detection') }), datatype: 'string' }),
    observation(scalar('c_bt_rssi', '$.payload.decoded.rssi', 'btRssi', 'DeciB_M', '2N', { when: cookieData('bt-detection') })),
    observation({ ...scalar('c_bt_diac', '$.payload.decoded.diac', 'btDeviceClass', undefined, undefined, { when: cookieData('bt-detection') }), datatype: 'string' }),
    observation(scalar('c_radar_count', '$.payload.decoded.count', 'vehicleCount', 'UNITLESS', 'C62', { when: cookieData('radar-count') })),
    ...Array.from({ length: 10 }, (_, i) => observation(scalar(`c_radar_v${i}`, `$.payload.decoded.velocities[${i}]`, 'vehicleVelocity', 'KiloM-PER-HR', 'KMH', { when: cookieData('radar-count'), key: `vehicleVelocity-${i}` }))),
    observation(scalar('c_status_battery', '$.payload.decoded.battery', 'battery', 'PERCENT', 'P1', { when: cookieData('device-status') })),
    observation({ ...scalar('c_status_firmware', '$.payload.decoded.firmware', 'firmware', undefined, undefined, { when: cookieData('device-status') }), datatype: 'string' }),
    observation(scalar('c_wtt_travel', '$.payload.decoded.travelTime', 'travelTime', 'SEC', 'SEC', { when: cookieData('weighted-travel-time') })),
    observation(scalar('c_wtt_ci', '$.payload.decoded.ci', 'travelTimeConfidence', 'SEC', 'SEC', { when: cookieData('weighted-travel-time') })),
    observation(scalar('c_wtt_vehicles', '$.payload.decoded.vehicles', 'vehicles', 'UNITLESS', 'C62', { when: cookieData('weighted-travel-time') })),
  ]);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) generateAll();
