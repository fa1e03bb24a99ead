// Test fixtures: small valid Thing Descriptions and request helpers for the directory tests.
import type { TestHub } from '../helpers/hub.ts';

export const TD_CTX = 'https://www.w3.org/2022/wot/td/v1.1';

/** A minimal valid TD 1.1 with one property; `id` omitted when undefined (an Anonymous TD). */
export function sampleTd(id: string | undefined, title = 'Lamp'): Record<string, unknown> {
  return {
    '@context': [TD_CTX, { saref: 'https://saref.etsi.org/core/' }],
    ...(id === undefined ? {} : { id }),
    '@type': 'saref:LightSwitch',
    title,
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: {
      status: { type: 'string', enum: ['on', 'off'], readOnly: true, forms: [{ href: 'https://lamp.example/status', contentType: 'application/json' }] },
    },
    actions: { toggle: { forms: [{ href: 'https://lamp.example/toggle' }] } },
  };
}

export function thingUrl(id: string): string {
  return `/things/${encodeURIComponent(id)}`;
}

export async function putTd(hub: TestHub, id: string, td: unknown, contentType = 'application/td+json') {
  return hub.app.inject({ method: 'PUT', url: thingUrl(id), headers: { authorization: hub.bearer, 'content-type': contentType }, payload: JSON.stringify(td) });
}
