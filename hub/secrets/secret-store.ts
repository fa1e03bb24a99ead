// Named secrets (LoRaWAN session keys) in <dataDir>/secrets.json (file 0600, directory 0700): TDs refer to them as
// "secret:<name>"; values are never logged, listed, served in a TD or reachable from a query.
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileDurably } from '../durable-file.ts';
import { join } from 'node:path';
import { BadRequestError, NotFoundError, PayloadTooLargeError } from '../errors.ts';
import type { SecretLookup } from '../bindings/types.ts';

export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Bytes one secret may hold (keys are 16; room for certificates' private keys in hex is not the purpose). */
export const MAX_SECRET_BYTES = 512;
export const MAX_SECRETS = 100_000;
const FILE = 'secrets.json';

/** Parses "<hex>" (separators `:`/`-`/spaces allowed) into bytes; BadRequestError otherwise. Never echoes the value. */
export function parseSecretHex(text: string): Buffer {
  const hex = text.trim().replace(/[\s:-]/g, '');
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new BadRequestError('a secret value is an even number of hex digits', undefined, 'secret-invalid');
  }
  if (hex.length / 2 > MAX_SECRET_BYTES) throw new PayloadTooLargeError(`a secret holds at most ${MAX_SECRET_BYTES} bytes`);
  return Buffer.from(hex, 'hex');
}

export class SecretStore implements SecretLookup {
  private readonly values = new Map<string, Buffer>();
  private readonly file: string;

  /** Loads the file synchronously (once, at hub start); a missing file is an empty store. */
  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    this.file = join(dataDir, FILE);
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
      chmodSync(this.file, 0o600);
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let data: { secrets?: Record<string, string> };
      try {
        data = JSON.parse(text) as { secrets?: Record<string, string> };
      } catch {
        // V8's message quotes the text: never let a secret reach a log line.
        throw new Error(`${this.file} is not valid JSON; the hub will not start without its secrets (fix or remove the file)`);
      }
      for (const [name, hex] of Object.entries(data.secrets ?? {})) {
        if (SECRET_NAME.test(name) && typeof hex === 'string' && /^([0-9a-f]{2})+$/i.test(hex)) this.values.set(name, Buffer.from(hex, 'hex'));
      }
    }
  }

  /** `secret:<name>` or a bare name -> a copy of the bytes (callers cannot change the stored value). */
  secret(ref: string): Uint8Array | undefined {
    const name = ref.startsWith('secret:') ? ref.slice(7) : ref;
    const v = this.values.get(name);
    return v ? Buffer.from(v) : undefined;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()].sort();
  }

  /** Sets a secret; resolves once the file is durable. Returns whether the name is new. */
  async put(name: string, value: Uint8Array): Promise<boolean> {
    if (!SECRET_NAME.test(name)) throw new BadRequestError('a secret name is 1-128 of [A-Za-z0-9._-], starting with a letter or digit', undefined, 'secret-name');
    if (value.length === 0 || value.length > MAX_SECRET_BYTES) throw new BadRequestError(`a secret holds 1 to ${MAX_SECRET_BYTES} bytes`, undefined, 'secret-invalid');
    const created = !this.values.has(name);
    if (created && this.values.size >= MAX_SECRETS) throw new PayloadTooLargeError(`at most ${MAX_SECRETS} secrets`);
    this.values.set(name, Buffer.from(value));
    await this.persist();
    return created;
  }

  async delete(name: string): Promise<void> {
    if (!this.values.delete(name)) throw new NotFoundError(`no secret named ${SECRET_NAME.test(name) ? name : '(invalid name)'}`);
    await this.persist();
  }

  /** Writes the whole (small) map durably (writeFileDurably: writes to the file run in call order, fsynced). */
  private persist(): Promise<void> {
    const body = JSON.stringify({ version: 1, secrets: Object.fromEntries([...this.values].map(([k, v]) => [k, v.toString('hex')])) });
    return writeFileDurably(this.file, body, 0o600);
  }
}
