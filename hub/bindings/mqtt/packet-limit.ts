// Hand-rolled (aedes 1.2 and mqtt-packet 9 have no packet-size limit): caps MQTT packet sizes on a broker connection.
//
// mqtt-packet buffers a whole packet before parsing it, so without a cap one CONNECT announcing 256 MB (before any
// authentication) makes the broker hold that much. This scanner follows the fixed headers (MQTT 3.1.1 §2.2: one type
// byte, then the Remaining Length in 1-4 bytes of 7 bits) of the bytes the broker reads and refuses a packet as soon as
// its header announces more than the cap, before its body arrives.

export class PacketSizeScanner {
  /** 0: expecting a type byte; 1: inside the Remaining Length; 2: inside a body. */
  private state = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Feeds the next bytes read; returns a reason when a packet is over the cap or malformed, else undefined. */
  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 2) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 0;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return 'malformed remaining length';
        continue;
      }
      if (1 + this.lengthBytes + this.length > this.maxPacketBytes) {
        return `packet of ${1 + this.lengthBytes + this.length} bytes is over the ${this.maxPacketBytes}-byte limit`;
      }
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 0 : 2;
    }
    return undefined;
  }
}

/**
 * Wraps `socket.read` (aedes reads its connections in paused mode, `conn.read(null)` on 'readable') so every byte the
 * broker consumes passes the scanner first; a packet over the cap destroys the socket and the read yields nothing.
 */
export function limitPacketSize(
  socket: { read(size?: number): unknown; destroy(error?: Error): void },
  maxPacketBytes: number,
  onViolation: (reason: string) => void,
): void {
  const scanner = new PacketSizeScanner(maxPacketBytes);
  const read = socket.read.bind(socket);
  let refused = false;
  socket.read = (size?: number) => {
    if (refused) return null;
    const chunk = read(size);
    if (chunk instanceof Uint8Array) {
      const reason = scanner.feed(chunk);
      if (reason) {
        refused = true;
        onViolation(reason);
        socket.destroy();
        return null;
      }
    }
    return chunk;
  };
}
