// Host header check against DNS rebinding: while the hub is bound to loopback, only loopback and configured names pass.
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { isLoopback, type HubConfig } from '../config.ts';
import { HostNotAllowedError } from '../errors.ts';

/** The host name of a Host header value (RFC 9110 §7.2: uri-host [":" port]), lower case, IPv6 with its brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Loopback names a rebinding attacker cannot point elsewhere: localhost (RFC 6761 §6.3), 127.0.0.0/8, [::1]. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || isLoopback(name);
}

/**
 * A web page on another site can make a browser send requests to the hub on 127.0.0.1 by pointing its own DNS name at
 * 127.0.0.1 (DNS rebinding); the browser then reads the answers as same-origin. Such requests carry the attacker's
 * name in Host, so while the hub is bound to loopback (where reads are open by default) a request must name a
 * loopback host, the host of `baseUrl`, or one of `allowedHosts` (names, or name:port); else 421 host-not-allowed
 * (RFC 9110 §15.5.20). Returns undefined when the hub listens on other addresses (tokens protect it there).
 */
export function hostCheck(config: Pick<HubConfig, 'host' | 'baseUrl' | 'allowedHosts'>): onRequestAsyncHookHandler | undefined {
  if (!isLoopback(config.host)) return undefined;
  const allowed = new Set((config.allowedHosts ?? []).map((h) => h.trim().toLowerCase()));
  const base = new URL(config.baseUrl);
  allowed.add(base.hostname.toLowerCase());
  allowed.add(base.host.toLowerCase());
  return async (request: FastifyRequest) => {
    const header = request.headers.host;
    // HTTP/1.0 without Host: no browser sends that, so no rebinding; Node refuses HTTP/1.1 without Host itself.
    if (header === undefined || header === '') return;
    const name = hostName(header);
    if (isLoopbackName(name) || allowed.has(name) || allowed.has(header.trim().toLowerCase())) return;
    throw new HostNotAllowedError(
      `The hub does not answer for host '${name.slice(0, 255)}'; it accepts loopback names, ${base.hostname} and allowedHosts`,
    );
  };
}
