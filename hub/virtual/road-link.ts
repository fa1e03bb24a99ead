// The Cookie paper's two virtual sensors of a road link as definitions: travel time (BT pairs) and weighted travel time (+ radar).

export interface RoadLink {
  /** Link id (origin-destination), 1-64 of [A-Za-z0-9._~-] (the Cookie serial header's device id). */
  link: string;
  /** Thing ids of the origin and destination BT scanners and of the origin radar. */
  originScanner: string;
  destinationScanner: string;
  originRadar: string;
  lengthM: number;
  /** Window, s (default 900), minimum valid pairs (15), at most one estimate per `every` s of data time (60). */
  window?: number;
  minPairs?: number;
  every?: number;
  passGap?: number;
}

const detections = (l: RoadLink) => ({
  origin: { thing: l.originScanner, property: 'mac', observation: 'btDetection' },
  destination: { thing: l.destinationScanner, property: 'mac', observation: 'btDetection' },
});

const travelTimeOperator = (l: RoadLink) => ({
  id: 'tt', op: 'travel-time', origin: 'origin', destination: 'destination', link: l.link,
  window: l.window ?? 900, minPairs: l.minPairs ?? 15, every: l.every ?? 60, lengthM: l.lengthM, minKmh: 5, maxKmh: 150,
  ...(l.passGap !== undefined ? { passGap: l.passGap } : {}),
});

/** Travel time per link (§5.1): vehicle classes, MACs at both ends, incoherent speeds dropped, from >= 15 valid pairs. */
export function travelTimeDefinition(l: RoadLink): Record<string, unknown> {
  const out = (select: string, extra: Record<string, unknown> = {}) => ({ from: 'tt', select, ...extra });
  return {
    title: `Travel time ${l.link}`,
    description: `Travel time on link ${l.link} (${l.lengthM} m) from the Bluetooth detections at ${l.originScanner} and ${l.destinationScanner}`,
    model: 'travel-time-sensor',
    inputs: detections(l),
    operators: [travelTimeOperator(l)],
    outputs: {
      travelTime: out('travelTime', { unit: 'qudt:SEC' }),
      medianTravelTime: out('median', { unit: 'qudt:SEC' }),
      ci: out('ci', { unit: 'qudt:SEC' }),
      pairs: out('pairs', { type: 'integer' }),
      candidates: out('candidates', { type: 'integer' }),
      interval: out('interval', { unit: 'qudt:SEC' }),
    },
    event: 'travelTimeUpdated',
  };
}

/** Weighted travel time (§5.3, the weighted-travel-time type): the same pairs weighted by the origin radar's counts. */
export function weightedTravelTimeDefinition(l: RoadLink): Record<string, unknown> {
  const out = (select: string, extra: Record<string, unknown> = {}) => ({ from: 'wtt', select, ...extra });
  return {
    title: `Weighted travel time ${l.link}`,
    description: `Travel time on link ${l.link} weighted by the vehicle counts of ${l.originRadar}`,
    model: 'weighted-travel-time',
    inputs: { ...detections(l), radar: { thing: l.originRadar, property: 'count', observation: 'vehicleCount' } },
    operators: [travelTimeOperator(l), { id: 'wtt', op: 'weighted-travel-time', from: 'tt', counts: 'radar', link: l.link, period: 60 }],
    outputs: {
      minute: out('minute', { type: 'integer' }),
      link: out('link', { type: 'string' }),
      interval: out('interval', { unit: 'qudt:SEC' }),
      travelTime: out('travelTime', { unit: 'qudt:SEC' }),
      ci: out('ci', { unit: 'qudt:SEC' }),
      vehicles: out('vehicles', { type: 'integer' }),
    },
    event: 'weightedTravelTime',
  };
}
