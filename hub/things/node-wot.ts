// The one place that loads node-wot 0.8.16: its packages are CommonJS, so they are required with their own typings.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const wotCore = require('@node-wot/core') as typeof import('@node-wot/core');
export const wotCoap = require('@node-wot/binding-coap') as typeof import('@node-wot/binding-coap');

export type Servient = import('@node-wot/core').Servient;
export type ExposedThing = import('@node-wot/core').ExposedThing;
export type Content = import('@node-wot/core').Content;
export type ProtocolServer = import('@node-wot/core').ProtocolServer;
export type ContentListener = import('@node-wot/core').ContentListener;
