// LoRaWAN frames straight from gateways: PHYPayload parsing, MIC, decryption, FCnt tracking, and an uplink encoder.
export * from './crypto.ts';
export * from './fcnt.ts';
export * from './phy-payload.ts';
export * from './session-state.ts';
export * from './uplink.ts';
