// UDP sockets for tests and benchmarks: one bound to an ephemeral loopback port, and a port free right now.
import { createSocket, type Socket } from 'node:dgram';

/** A udp4 socket bound to an ephemeral port on `address` (loopback). */
export async function udpSocket(address = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  return s;
}

/** A loopback UDP port that was free a moment ago (bound, read, closed). */
export async function freeUdpPort(): Promise<number> {
  const s = await udpSocket();
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
