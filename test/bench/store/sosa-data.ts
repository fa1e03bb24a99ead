// Benchmark data: SOSA observations (8 triples each) of N sensors over D days, in per-Thing per-day observation graphs.
import { observationGraph } from '../../../hub/store/graphs.ts';

export const SOSA = 'http://www.w3.org/ns/sosa/';
export const XSD = 'http://www.w3.org/2001/XMLSchema#';
export const EX = 'https://bench.example.org/';
export const START = Date.UTC(2026, 0, 1);

export interface DataShape {
  sensors: number;
  observations: number;
  days: number;
}

export const sensorIri = (i: number) => `${EX}sensor/s${i}`;
export const sensorThingId = (i: number) => `urn:bench:thing:s${i}`;

/** Time of observation k of a sensor: spread evenly over the days, shifted per sensor so that times differ. */
export function observationTime(shape: DataShape, sensor: number, k: number): Date {
  const perSensor = shape.observations / shape.sensors;
  const step = (shape.days * 86_400_000) / perSensor;
  return new Date(START + Math.floor(k * step + (sensor * 997) % step));
}

/** One observation as the uplink router writes it: 8 triples (N-Triples) and the graph they go to. */
export function observationMessage(baseUrl: string, shape: DataShape, sensor: number, k: number, id = `${sensor}-${k}`): { ntriples: string; graph: string } {
  const t = observationTime(shape, sensor, k);
  const o = `<${EX}obs/${id}>`;
  const value = (15 + ((sensor * 7 + k * 13) % 200) / 10).toFixed(1);
  return { ntriples: observationTriples(o, sensor, t, value), graph: observationGraph(baseUrl, sensorThingId(sensor), t) };
}

/** The 8 N-Triples of observation `o` (an IRI in <>) of `sensor` at `t` with result `value` (a decimal string). */
export function observationTriples(o: string, sensor: number, t: Date, value: string): string {
  const time = `"${t.toISOString()}"^^<${XSD}dateTime>`;
  return (
    `${o} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> .\n` +
    `${o} <${SOSA}madeBySensor> <${sensorIri(sensor)}> .\n` +
    `${o} <${SOSA}observedProperty> <${EX}property/temperature> .\n` +
    `${o} <${SOSA}hasFeatureOfInterest> <${EX}room/r${sensor % 100}> .\n` +
    `${o} <${SOSA}usedProcedure> <${EX}procedure/p${sensor % 10}> .\n` +
    `${o} <${SOSA}phenomenonTime> ${time} .\n` +
    `${o} <${SOSA}resultTime> ${time} .\n` +
    `${o} <${SOSA}hasSimpleResult> "${value}"^^<${XSD}double> .\n`
  );
}

/** The 8 N-Quads of one observation (SOSA: sosa:Observation with sensor, property, feature, times, result, procedure). */
export function observationQuads(baseUrl: string, shape: DataShape, sensor: number, k: number, id = `${sensor}-${k}`): string {
  const { ntriples, graph } = observationMessage(baseUrl, shape, sensor, k, id);
  return ntriples.replace(/ \.\n/g, ` <${graph}> .\n`);
}

/** All observations in chunks of `chunk` observations (N-Quads text each), ordered by time as ingestion would see them. */
export function* observationChunks(baseUrl: string, shape: DataShape, chunk: number): Generator<string> {
  const perSensor = shape.observations / shape.sensors;
  let parts: string[] = [];
  for (let k = 0; k < perSensor; k++) {
    for (let s = 0; s < shape.sensors; s++) {
      parts.push(observationQuads(baseUrl, shape, s, k));
      if (parts.length === chunk) {
        yield parts.join('');
        parts = [];
      }
    }
  }
  if (parts.length) yield parts.join('');
}

/** The UTC day (YYYY-MM-DD) `n` days after the start. */
export const dayOf = (n: number) => new Date(START + n * 86_400_000).toISOString().slice(0, 10);
