// Hand-rolled (no maintained JS SCHC library): bit-level reader/writer and bit-string values for SCHC residues.
import { DecodeError } from '../../errors.ts';

/**
 * A field value of `len` bits, right-aligned in ceil(len / 8) big-endian bytes (the way a number of that width is
 * written). Residues, target values and header fields are all Values, so comparing them is a length + bytes check.
 */
export interface Value {
  readonly len: number;
  readonly bytes: Uint8Array;
}

export const EMPTY: Value = { len: 0, bytes: new Uint8Array(0) };

/** A Value of `len` bits holding the integer `n` (which must fit: callers check). */
export function valueOfInt(n: number | bigint, len: number): Value {
  const bytes = new Uint8Array(Math.ceil(len / 8));
  let v = BigInt(n);
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (len % 8 !== 0 && bytes.length > 0) bytes[0]! &= (1 << len % 8) - 1;
  return { len, bytes };
}

/** Whole bytes as a Value of 8 * length bits. */
export function valueOfBytes(bytes: Uint8Array): Value {
  return { len: bytes.length * 8, bytes };
}

/** The integer a Value holds (fields of up to 48 bits: lengths, ports, codes, option numbers). */
export function intOf(v: Value): number {
  let n = 0;
  for (const b of v.bytes) n = n * 256 + b;
  return n;
}

export function bigIntOf(v: Value): bigint {
  let n = 0n;
  for (const b of v.bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** Bit `i` of a Value counted from its most significant bit (0 = first bit on the wire). */
export function bitAt(v: Value, i: number): number {
  const pos = v.bytes.length * 8 - v.len + i;
  return (v.bytes[pos >> 3]! >> (7 - (pos & 7))) & 1;
}

export function valuesEqual(a: Value, b: Value): boolean {
  if (a.len !== b.len || a.bytes.length !== b.bytes.length) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

/** Whether the first `n` bits of `a` and `b` agree (the MSB(x) matching operator, RFC 8724 §7.3). */
export function msbEqual(a: Value, b: Value, n: number): boolean {
  if (a.len < n || b.len < n) return false;
  for (let i = 0; i < n; i++) if (bitAt(a, i) !== bitAt(b, i)) return false;
  return true;
}

/** The bits of `v` from `start` (MSB-first index) to its end, as a Value. */
export function sliceBits(v: Value, start: number): Value {
  const w = new BitWriter();
  for (let i = start; i < v.len; i++) w.writeBit(bitAt(v, i));
  return w.toValue();
}

/** `a` followed by `b` (MSB(x) target bits + LSB residue). */
export function concatBits(a: Value, b: Value): Value {
  const w = new BitWriter();
  w.writeValue(a);
  w.writeValue(b);
  return w.toValue();
}

/** A Value's bytes when it is whole bytes (CoAP option values, tokens, payloads), else undefined. */
export function wholeBytes(v: Value): Uint8Array | undefined {
  return v.len % 8 === 0 ? v.bytes : undefined;
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Reads a SCHC packet bit by bit, most significant bit first (RFC 8724 §7.4: residues are concatenated without
 * alignment). Every read checks the remaining length first, so a truncated packet is a DecodeError at a bit offset.
 */
export class BitReader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    readonly bitLength = bytes.length * 8,
  ) {}

  get remaining(): number {
    return this.bitLength - this.pos;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) {
      throw new DecodeError(`SCHC packet truncated: ${field} needs ${n} bits, ${this.remaining} left`, { offset: this.pos, field, unit: 'bit' }, 'schc-truncated');
    }
  }

  bit(): number {
    const p = this.pos++;
    return (this.bytes[p >> 3]! >> (7 - (p & 7))) & 1;
  }

  /** `n` bits (n <= 32) as an unsigned integer. */
  readInt(n: number, field: string): number {
    this.need(n, field);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  /** `n` bits as a Value. */
  readValue(n: number, field: string): Value {
    this.need(n, field);
    const out = new Uint8Array(Math.ceil(n / 8));
    // The odd high bits first (right alignment), then whole bytes, each from two source bytes when unaligned: payloads
    // of hundreds of bytes are copied bytewise, not bit by bit.
    const head = n % 8;
    if (head) out[0] = this.readInt(head, field);
    const shift = this.pos & 7;
    let p = this.pos >> 3;
    const src = this.bytes;
    for (let i = head ? 1 : 0; i < out.length; i++, p++) {
      out[i] = shift === 0 ? src[p]! : ((src[p]! << shift) | ((src[p + 1] ?? 0) >> (8 - shift))) & 0xff;
    }
    this.pos += n - head;
    return { len: n, bytes: out };
  }

  /**
   * The size of a variable-length residue (RFC 8724 §7.4.2): 0..14 in 4 bits; 15..254 as 0b1111 + 8 bits; larger as
   * 0b1111 + 0xff + 16 bits.
   */
  readVarLength(field: string): number {
    let v = this.readInt(4, field);
    if (v === 15) {
      v = this.readInt(8, field);
      if (v === 255) v = this.readInt(16, field);
    }
    return v;
  }
}

/** Writes bits most significant first; toBytes() pads the last byte with zeros on the right (RFC 8724 §7.2). */
export class BitWriter {
  private readonly out: number[] = [];
  bitLength = 0;

  writeBit(b: number): void {
    if ((this.bitLength & 7) === 0) this.out.push(0);
    if (b) this.out[this.out.length - 1]! |= 0x80 >> (this.bitLength & 7);
    this.bitLength++;
  }

  writeInt(n: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) this.writeBit(Math.floor(n / 2 ** i) % 2);
  }

  writeValue(v: Value): void {
    const head = v.len % 8;
    for (let i = 0; i < head; i++) this.writeBit(bitAt(v, i));
    const shift = this.bitLength & 7;
    for (let i = head ? 1 : 0; i < v.bytes.length; i++) {
      const b = v.bytes[i]!;
      if (shift === 0) this.out.push(b);
      else {
        this.out[this.out.length - 1]! |= b >> shift;
        this.out.push((b << (8 - shift)) & 0xff);
      }
      this.bitLength += 8;
    }
  }

  writeBytes(bytes: Uint8Array): void {
    this.writeValue(valueOfBytes(bytes));
  }

  /** RFC 8724 §7.4.2 size encoding; sizes above 65535 cannot be encoded. */
  writeVarLength(size: number): void {
    if (size < 15) this.writeInt(size, 4);
    else if (size < 255) {
      this.writeInt(15, 4);
      this.writeInt(size, 8);
    } else {
      this.writeInt(15, 4);
      this.writeInt(255, 8);
      this.writeInt(size, 16);
    }
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  /** The written bits as a right-aligned Value. */
  toValue(): Value {
    const r = new BitReader(this.toBytes(), this.bitLength);
    return r.readValue(this.bitLength, 'value');
  }
}
