// LoRaWAN frames straight from gateways: PHYPayload parsing, MIC, decryption, FCnt tracking, uplink/downlink encoders, OTAA frames.
export * from './crypto.ts';
export * from './fcnt.ts';
export * from './phy-payload.ts';
export * from './session-state.ts';
export * from './uplink.ts';
export * from './downlink.ts';
export * from './join.ts';
