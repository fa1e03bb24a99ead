// OSC over UDP (Open Sound Control 1.0/1.1): packet decoding, address patterns, the NGIMU message set, the listener.
export * from './packet.ts';
export * from './pattern.ts';
export * from './codec.ts';
export * from './listener.ts';
