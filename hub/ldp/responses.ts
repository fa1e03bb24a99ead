// Response headers and bodies of LDP resources: Link rel=type/describedby, Allow, Accept-Post, Accept-Patch (LDP §4.2.8),
// content negotiation of RDF representations (Turtle default), strong entity tags per representation.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Quad } from '@rdfjs/types';
import { NotAcceptableError } from '../errors.ts';
import { negotiate } from '../http/conneg.ts';
import { storedContentHeaders } from '../http/security-headers.ts';
import { contentTypeHeader, RDF_TYPE_ALIASES, serializeNTriples } from '../sparql/rdf-formats.ts';
import { linkHeader, parsePrefer, typeLinks, type ContainerPreference } from './headers.ts';
import { toNTriples } from './representation.ts';
import { ACCEPT_PATCH, ACCEPT_POST_RDF, isContainerModel, type InteractionModel } from './vocab.ts';

/** RDF syntaxes of LDP-RS representations, Turtle first (LDP §4.3.2.2: Turtle when Accept is absent). */
export const LDP_RDF_TYPES = ['text/turtle', 'application/ld+json', 'application/n-triples', 'application/rdf+xml'];

export interface HeaderInfo {
  model: InteractionModel;
  allow: string[];
  describedBy?: string;
  /** For the describedby LDP-RS of an LDP-NR: the LDP-NR (rel="describes", RFC 8288 / LDP §5.2.3.12). */
  describes?: string;
  /** Extra links (e.g. rel="next" of a paged listing). */
  links?: Array<[string, string]>;
}

/** Sets the headers every response about an LDPR carries (LDP §4.2.1.4, §4.2.8, §5.2.3.14, §4.2.7.1). */
export function setResourceHeaders(reply: FastifyReply, iri: string, info: HeaderInfo): void {
  const links = [...typeLinks(info.model), ...(info.links ?? [])];
  if (info.describes) links.push([info.describes, 'describes']);
  let link = linkHeader(links);
  if (info.describedBy) link += `, <${info.describedBy}>; rel="describedby"; anchor="${iri}"`;
  reply.header('link', link);
  reply.header('allow', info.allow.join(', '));
  if (info.allow.includes('POST') && isContainerModel(info.model)) reply.header('accept-post', [...ACCEPT_POST_RDF, '*/*'].join(', '));
  if (info.allow.includes('PATCH')) reply.header('accept-patch', ACCEPT_PATCH.join(', '));
  reply.header('vary', 'Accept, Prefer');
}

/** Picks the RDF syntax of a GET/HEAD; 406 when the client accepts none. */
export function chooseRdfType(request: FastifyRequest): string {
  const chosen = negotiate(request.headers.accept, LDP_RDF_TYPES, RDF_TYPE_ALIASES);
  if (!chosen) throw new NotAcceptableError(`This resource is available as ${LDP_RDF_TYPES.join(', ')}`);
  return chosen;
}

/**
 * Entity tag of one representation: the state hash alone for the default one (Turtle, everything included), the
 * hash plus a variant code otherwise, so that tags stay strong (RFC 9110 §8.8.1: one tag per representation)
 * while If-Match can still recognise the state.
 */
export function representationTag(hash: string, mediaType: string, pref: ContainerPreference): string {
  const variant = `${mediaType}|${pref.containment}|${pref.membership}`;
  if (variant === 'text/turtle|true|true') return `"${hash}"`;
  return `"${hash}-${createHash('sha1').update(variant).digest('base64url').slice(0, 8)}"`;
}

/** Sends an RDF representation (or only its headers for HEAD), honouring If-None-Match and Prefer. */
export function sendRdf(request: FastifyRequest, reply: FastifyReply, quads: (pref: ContainerPreference) => Quad[], hash: string): FastifyReply {
  const mediaType = chooseRdfType(request);
  const pref = parsePrefer(request.headers.prefer);
  const etag = representationTag(hash, mediaType, pref);
  reply.header('etag', etag);
  if (pref.representation) reply.header('preference-applied', 'return=representation');
  reply.type(contentTypeHeader(mediaType));
  const inm = request.headers['if-none-match'];
  if (inm && (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) return reply.code(304).send();
  const body = serializeNTriples(toNTriples(quads(pref)), mediaType);
  if (request.method === 'HEAD') {
    reply.header('content-length', Buffer.byteLength(body));
    return reply.send();
  }
  return reply.send(body);
}

/**
 * Sends the bytes of an LDP-NR with its stored media type. Uploaded active content (HTML, SVG, XML, scripts) goes out
 * with `Content-Security-Policy: sandbox` and `Content-Disposition: attachment`, never as a page of the hub's origin.
 */
export function sendBytes(request: FastifyRequest, reply: FastifyReply, bytes: Buffer, mediaType: string, tag: string): FastifyReply {
  const etag = `"${tag}"`;
  reply.header('etag', etag).type(mediaType).headers(storedContentHeaders(mediaType));
  const inm = request.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.code(304).send();
  if (request.method === 'HEAD') {
    reply.header('content-length', bytes.length);
    return reply.send();
  }
  return reply.send(bytes);
}
