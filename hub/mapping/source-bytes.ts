// RML-IO source bytes to text: decompression (gzip, zip, tar.gz, tar.xz) under a size cap, then character decoding.
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { Unzip, UnzipInflate } from 'fflate';
import { parseTar } from 'nanotar';
import { MappingError } from '../errors.ts';

/** RML-IO compressions (rml:none, rml:gzip, rml:zip, rml:targz / rml:targzip, rml:tarxz). */
export type Compression = 'none' | 'gzip' | 'zip' | 'targz' | 'tarxz';

/** Default cap on a source's decompressed (and raw) size: 64 MiB. */
export const DEFAULT_MAX_SOURCE_BYTES = 64 * 1024 * 1024;

export interface SourceBytesOptions {
  compression?: Compression;
  /** A declared encoding label (rml:encoding's local name or csvw:encoding): UTF-8, UTF-16, ISO-8859-1, ... */
  encoding?: string;
  /** The archive member to read when an archive holds several files; by default its only file. */
  member?: string;
  /** Cap on decompressed bytes; past it a MappingError `source-too-large` (decompression bombs stop there). */
  maxBytes?: number;
  /** For error messages. */
  name?: string;
}

function tooLarge(name: string, max: number): MappingError {
  return new MappingError(`Logical source '${name}' is larger than ${max} bytes once decompressed`, { term: name }, {}, 'source-too-large');
}

function invalid(name: string, why: string, cause?: unknown): MappingError {
  return new MappingError(`Logical source '${name}': ${why}`, { term: name }, cause === undefined ? {} : { cause }, 'source-invalid');
}

function gunzip(data: Uint8Array, name: string, max: number): Uint8Array {
  try {
    // maxOutputLength stops inflating at the cap instead of allocating what the stream claims.
    return gunzipSync(data, { maxOutputLength: max });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw tooLarge(name, max);
    throw invalid(name, `not gzip data (${(e as Error).message})`, e);
  }
}

function pickMember<T extends { name: string }>(items: T[], name: string, member: string | undefined, kind: string): T {
  const files = items.filter((f) => !f.name.endsWith('/'));
  const base = name.replace(/^.*\//, '').replace(/\.(zip|gz|tgz|xz|tar)$/gi, '').replace(/\.tar$/i, '');
  // The named member; else the only file; else the one named like the archive ("people.json.zip" -> people.json,
  // "people.zip" -> the one people.*).
  const leaf = (f: T): string => f.name.replace(/^.*\//, '');
  const stem = files.filter((f) => leaf(f).replace(/\.[^.]*$/, '') === base);
  const hit = member !== undefined ? files.find((f) => f.name === member) : files.length === 1 ? files[0] : (files.find((f) => leaf(f) === base) ?? (stem.length === 1 ? stem[0] : undefined));
  if (!hit) throw invalid(name, `the ${kind} has ${files.length} files (${files.slice(0, 5).map((f) => f.name).join(', ')}); none is ${member ?? base}`);
  return hit;
}

const ZIP_PIECE = 4096;

function unzip(data: Uint8Array, name: string, member: string | undefined, max: number): Uint8Array {
  const entries: Array<{ name: string; chunks: Uint8Array[] }> = [];
  let total = 0;
  let over = false;
  const uz = new Unzip((file) => {
    const entry = { name: file.name, chunks: [] as Uint8Array[] };
    entries.push(entry);
    file.ondata = (err, chunk) => {
      if (err) throw err;
      total += chunk.length;
      if (total > max) {
        over = true;
        throw tooLarge(name, max);
      }
      entry.chunks.push(chunk);
    };
    file.start();
  });
  uz.register(UnzipInflate);
  try {
    // Fed in 4 KiB pieces: deflate expands at most ~1032:1, so one piece inflates to at most ~4 MiB before the
    // ondata check above throws; a single push of the whole archive would inflate a bomb entirely first.
    for (let off = 0; off < data.length; off += ZIP_PIECE) uz.push(data.subarray(off, off + ZIP_PIECE), off + ZIP_PIECE >= data.length);
    if (data.length === 0) uz.push(data, true);
  } catch (e) {
    if (over) throw tooLarge(name, max);
    throw invalid(name, `not a zip archive (${(e as Error).message})`, e);
  }
  if (over) throw tooLarge(name, max);
  if (entries.length === 0) throw invalid(name, 'not a zip archive, or an empty one');
  return Buffer.concat(pickMember(entries, name, member, 'zip archive').chunks);
}

function untar(data: Uint8Array, name: string, member: string | undefined): Uint8Array {
  let items;
  try {
    items = parseTar(data).filter((f) => f.type === 'file' || f.type === undefined || f.type === 'contiguousFile');
  } catch (e) {
    throw invalid(name, `not a tar archive (${(e as Error).message})`, e);
  }
  if (items.length === 0) throw invalid(name, 'the tar archive holds no file');
  return pickMember(items, name, member, 'tar archive').data ?? new Uint8Array();
}

const require = createRequire(import.meta.url);

async function unxz(data: Uint8Array, name: string, max: number): Promise<Uint8Array> {
  // A CommonJS WASM module (xz-embedded): loaded on first use, so that other sources never pay for it.
  const { XzReadableStream } = require('xz-decompress') as typeof import('xz-decompress');
  const reader = new XzReadableStream(new Blob([new Uint8Array(data)]).stream()).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(name, max);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof MappingError) throw e;
    throw invalid(name, `not xz data (${(e as Error).message ?? String(e)})`, e);
  }
  return Buffer.concat(chunks);
}

/** Decompresses a source's bytes as its rml:compression says, never past `maxBytes`. */
export async function decompress(data: Uint8Array, options: SourceBytesOptions = {}): Promise<Uint8Array> {
  const name = options.name ?? 'source';
  const max = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  if (data.length > max) throw tooLarge(name, max);
  switch (options.compression ?? 'none') {
    case 'none':
      return data;
    case 'gzip':
      return gunzip(data, name, max);
    case 'zip':
      return unzip(data, name, options.member, max);
    case 'targz':
      return untar(gunzip(data, name, max), name, options.member);
    case 'tarxz':
      return untar(await unxz(data, name, max), name, options.member);
  }
}

/** Encoding labels RML-IO and CSVW use, to WHATWG/Node names; UTF-16 without a byte order mark is big-endian (RFC 2781). */
const LABELS: Record<string, string> = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'utf-16': 'utf-16be', utf16: 'utf-16be', 'utf-16be': 'utf-16be', 'utf-16le': 'utf-16le',
  'iso-8859-1': 'latin1', 'iso8859-1': 'latin1', latin1: 'latin1', 'latin-1': 'latin1', 'us-ascii': 'latin1', ascii: 'latin1',
};

/**
 * Decodes text (RML-IO rml:encoding, default UTF-8): a byte order mark wins (UTF-8, UTF-16 LE/BE) and is dropped;
 * ISO-8859-1 maps each byte to U+0000-U+00FF; other labels go to TextDecoder. Malformed bytes are a MappingError
 * `source-invalid`, never silently replaced with U+FFFD.
 */
export function decodeText(data: Uint8Array, encoding: string | undefined, name = 'source'): string {
  let label = encoding === undefined ? 'utf-8' : (LABELS[encoding.toLowerCase()] ?? encoding.toLowerCase());
  let start = 0;
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) [label, start] = ['utf-8', 3];
  else if (data[0] === 0xff && data[1] === 0xfe) [label, start] = ['utf-16le', 2];
  else if (data[0] === 0xfe && data[1] === 0xff) [label, start] = ['utf-16be', 2];
  const body = data.subarray(start);
  if (label === 'latin1') return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true, ignoreBOM: true });
  } catch {
    throw invalid(name, `unknown encoding '${encoding}'`);
  }
  try {
    return decoder.decode(body);
  } catch (e) {
    throw invalid(name, `the bytes are not valid ${encoding ?? 'UTF-8'}`, e);
  }
}

/** Bytes of a source to its text: decompress under the cap, then decode. */
export async function sourceText(data: Uint8Array, options: SourceBytesOptions = {}): Promise<string> {
  return decodeText(await decompress(data, options), options.encoding, options.name);
}
