// A simulated environmental sensor: deterministic readings (temperature, humidity, battery) that drift like real ones.

/** Small deterministic PRNG (mulberry32): the same seed gives the same fleet, run after run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Reading {
  temperature: number;
  humidity: number;
  battery: number;
}

/**
 * One device's readings: temperature follows a daily cycle plus a random walk, humidity moves against it, the battery
 * drains slowly. Values are rounded to what Cayenne LPP carries (0.1 °C, 0.5 %RH, 0.01 V).
 */
export class SimulatedSensor {
  private readonly random: () => number;
  private walk = 0;
  private battery = 3.6;

  constructor(readonly seed: number) {
    this.random = prng(seed);
    this.walk = (this.random() - 0.5) * 4;
  }

  read(at: number): Reading {
    this.walk = Math.max(-5, Math.min(5, this.walk + (this.random() - 0.5) * 0.4));
    const daily = Math.sin(((at / 3_600_000) % 24) / 24 * 2 * Math.PI - Math.PI / 2) * 4;
    const temperature = Math.round((18 + daily + this.walk) * 10) / 10;
    const humidity = Math.round(Math.max(0, Math.min(100, 55 - (temperature - 18) * 2 + (this.random() - 0.5) * 4)) * 2) / 2;
    this.battery = Math.max(2.5, this.battery - this.random() * 0.0005);
    return { temperature, humidity, battery: Math.round(this.battery * 100) / 100 };
  }
}

// Hand-rolled Cayenne LPP *encoder* for the three types the simulator sends (the hub's decoder lives in
// hub/bindings/cayenne): channel, type, big-endian value. Types from the Cayenne LPP spec (IPSO id - 3200).
const LPP_TEMPERATURE = 0x67; // 2 bytes signed, 0.1 °C
const LPP_HUMIDITY = 0x68; // 1 byte unsigned, 0.5 %
const LPP_ANALOG_INPUT = 0x02; // 2 bytes signed, 0.01

/** Cayenne LPP bytes of a reading: temperature on channel 1, humidity on 2, battery (analog input, volts) on 3. */
export function cayenneLpp(r: Reading): Uint8Array {
  const out = new Uint8Array(11);
  const view = new DataView(out.buffer);
  out[0] = 1;
  out[1] = LPP_TEMPERATURE;
  view.setInt16(2, Math.round(r.temperature * 10));
  out[4] = 2;
  out[5] = LPP_HUMIDITY;
  out[6] = Math.round(r.humidity * 2);
  out[7] = 3;
  out[8] = LPP_ANALOG_INPUT;
  view.setInt16(9, Math.round(r.battery * 100));
  return out;
}
