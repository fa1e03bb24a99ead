// Gateways straight to the hub: the Semtech UDP packet-forwarder protocol and its LoRaWAN uplink processing.
export * from './protocol.ts';
export * from './uplinks.ts';
export * from './listener.ts';
export * from './downlink.ts';
export * from './join.ts';
