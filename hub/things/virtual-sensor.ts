// Virtual sensors as Things: a sensor computed by the hub (data fusion) whose values are published to LiveState.

/**
 * A virtual sensor (ARCHITECTURE.md hub/virtual): the hub exposes its TD like a device's. Its property values are what
 * the sensor publishes to LiveState under its own id (`meta.thingId === id`), so reads, observe and events work the same.
 */
export interface VirtualSensor {
  readonly id: string;
  /** W3C WoT TD 1.1 of the sensor, without forms (the runtime adds the hub's forms). */
  readonly td: Record<string, unknown>;
}
