// Starts every transport the configuration enables (MQTT broker/subscriber, UDP packet forwarder, ...) and stops them.
import type { RunningTransport, TransportContext } from './types.ts';

/**
 * Starts the enabled transports in order; if one fails to start, those already started are stopped and the error is
 * rethrown (a hub that cannot bind a configured port does not run half-deaf). Each binding adds its start call here.
 */
export async function startTransports(ctx: TransportContext): Promise<RunningTransport[]> {
  const running: RunningTransport[] = [];
  const starters: Array<() => Promise<RunningTransport | undefined>> = [
    // one line per transport, e.g. () => startMqtt(ctx),
    async () => (await import('./mqtt/index.ts')).startMqtt(ctx),
    async () => (await import('./semtech-udp/index.ts')).startPacketForwarder(ctx),
    async () => (await import('./osc/index.ts')).startOsc(ctx),
    async () => (await import('./cookie/index.ts')).startCookie(ctx),
    async () => (await import('./obd/index.ts')).startObd(ctx),
  ];
  try {
    for (const start of starters) {
      const t = await start();
      if (t) running.push(t);
    }
  } catch (e) {
    await stopTransports(running);
    throw e;
  }
  return running;
}

/** Stops transports in reverse start order; a failing stop does not keep the others running. */
export async function stopTransports(running: RunningTransport[]): Promise<void> {
  for (const t of [...running].reverse()) {
    try {
      await t.stop();
    } catch {
      // keep stopping the rest
    }
  }
}
