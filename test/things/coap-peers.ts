// Test helpers for CoAP: run libcoap's coap-client-notls (bounded) and build raw RFC 7252 datagrams.
import { execFile, spawnSync } from 'node:child_process';

/**
 * Whether libcoap's coap-client-notls (Debian libcoap3-bin) is installed. Without it the peer tests are skipped with a
 * message on a developer machine; under CI (CI=true, where .ci/run installs it) they run and fail instead.
 */
export const HAS_COAP_CLIENT = spawnSync('coap-client-notls', ['-h'], { timeout: 5000 }).error === undefined;
export const RUN_COAP_PEER_TESTS = HAS_COAP_CLIENT || process.env.CI === 'true';

export interface ClientRun {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs coap-client-notls with a hard time limit; never rejects (the exit code and output tell the story). */
export function coapClient(args: string[], timeoutMs = 10_000): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile('coap-client-notls', args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
  });
}

/** Encodes a CoAP request (RFC 7252 §3): CON, 2-byte token, options sorted by number, no payload. */
export function coapRequest(
  code: number,
  messageId: number,
  token: Buffer,
  options: Array<[number, Buffer]>,
): Buffer {
  const parts: Buffer[] = [Buffer.from([0x40 | token.length, code, messageId >> 8, messageId & 0xff]), token];
  let last = 0;
  for (const [number, value] of [...options].sort((a, b) => a[0] - b[0])) {
    const delta = number - last;
    last = number;
    const nib = (n: number) => (n < 13 ? [n, []] : n < 269 ? [13, [n - 13]] : [14, [(n - 269) >> 8, (n - 269) & 0xff]]) as [number, number[]];
    const [d, dExt] = nib(delta);
    const [l, lExt] = nib(value.length);
    parts.push(Buffer.from([(d << 4) | l, ...dExt, ...lExt]), value);
  }
  return Buffer.concat(parts);
}

/** Options of a GET on `path` (Uri-Path = 11), with Observe (6) = 0 when `observe`. */
export function pathOptions(path: string[], observe: boolean): Array<[number, Buffer]> {
  const options: Array<[number, Buffer]> = path.map((segment) => [11, Buffer.from(segment)]);
  if (observe) options.push([6, Buffer.alloc(0)]);
  return options;
}
