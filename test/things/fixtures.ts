// Shared fixtures of the Thing runtime tests: a device TD, an uplink envelope, a bounded wait.
import type { MessageEnvelope } from '../../hub/routing/live-state.ts';

export const DEVICE_ID = 'urn:dev:lorawan:0004A30B001C0530';

const form = (path: string) => [{ href: `https://device.invalid/${path}` }];

/** A LoRaWAN sensor TD as a user registers it (its own forms; the hub exposes it with its forms instead). */
export function deviceTd(id = DEVICE_ID): Record<string, unknown> {
  return {
    '@context': 'https://www.w3.org/2022/wot/td/v1.1',
    id,
    title: 'Greenhouse sensor',
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: {
      temperature: { type: 'number', unit: 'degree Celsius', readOnly: true, observable: true, forms: form('t') },
      humidity: { type: 'number', readOnly: true, observable: true, forms: form('h') },
    },
    actions: {
      setInterval: {
        input: {
          type: 'object',
          properties: { seconds: { type: 'integer', minimum: 10, maximum: 86400 } },
          required: ['seconds'],
        },
        forms: form('interval'),
      },
    },
    events: {
      temperature: { data: { type: 'number' }, forms: form('te') },
      uplink: { data: { type: 'object' }, forms: form('up') },
    },
  };
}

export function uplink(thingId: string, payload: Record<string, unknown>): MessageEnvelope {
  return { meta: { thingId, protocol: 'lorawan', receivedAt: new Date().toISOString() }, payload };
}

/** Polls `check` until it returns a value other than undefined, failing after `ms`. */
export async function waitFor<T>(check: () => T | undefined, ms = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An open Server-Sent Events response whose text accumulates in `text()`; `close()` aborts it and waits for the reader. */
export interface SseStream {
  text(): string;
  close(): Promise<void>;
}

export async function openSse(url: string): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    text: () => text,
    async close() {
      controller.abort();
      await pump;
    },
  };
}
