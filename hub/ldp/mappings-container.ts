// /ldp/mappings/: the hub's RML mapfiles as an LDP container. It delegates to the mapping MappingRegistry (the one
// implementation that validates, compiles and stores mapfiles), so /mappings/{name} and /ldp/mappings/{name} are
// two HTTP faces of the same resources. Members are LDP-NRs (the source text) with a describedby LDP-RS.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import n3 from 'n3';
import { MethodNotAllowedError, NotFoundError, PreconditionFailedError, PreconditionRequiredError, UnsupportedMediaTypeError } from '../errors.ts';
import { mediaTypeOf } from '../http/conneg.ts';
import { decodeUtf8Strict } from '../http/body.ts';
import { formatOfMediaType, type MappingFormat } from '../mapping/parse.ts';
import { ifMatchMatches, sanitizeSlug } from './headers.ts';
import { sendBytes, sendRdf, setResourceHeaders } from './responses.ts';
import { DCTERMS, ldp, META_SUFFIX, RDF_TYPE } from './vocab.ts';

const { namedNode, quad, literal } = n3.DataFactory;

/** What this container needs of hub/mapping's MappingRegistry (structural, so either side can evolve). */
export interface MapfileRegistry {
  list(): Array<{ name: string; mediaType: string; text: string; updatedAt: string }>;
  get(name: string): { name: string; mediaType: string; text: string; updatedAt: string } | undefined;
  put(name: string, text: string, format: MappingFormat, mediaType: string): Promise<{ created: boolean }>;
  delete(name: string): Promise<void>;
}

const tagOf = (mediaType: string, text: string) => createHash('sha256').update(mediaType).update('\0').update(text).digest('base64url').slice(0, 27);
const t = (s: string, p: string, o: n3.Quad['object']) => quad(namedNode(s), namedNode(p), o);

export class MappingsContainer {
  readonly iri: string;
  constructor(
    root: string,
    private readonly registry: MapfileRegistry,
    private readonly authoringBase: string,
  ) {
    this.iri = `${root}mappings/`;
  }

  owns(iri: string): boolean {
    return iri.startsWith(this.iri) || iri === this.iri.slice(0, -1);
  }

  /** Handles any method on the container or a member; auth was checked by the caller. */
  async handle(request: FastifyRequest, reply: FastifyReply, iri: string): Promise<FastifyReply> {
    if (iri === this.iri) return this.container(request, reply);
    const name = iri.slice(this.iri.length);
    if (name.endsWith(META_SUFFIX)) return this.meta(request, reply, iri, name.slice(0, -META_SUFFIX.length));
    return this.member(request, reply, iri, name);
  }

  private async container(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const allow = ['GET', 'HEAD', 'OPTIONS', 'POST'];
    setResourceHeaders(reply, this.iri, { model: 'BasicContainer', allow });
    if (request.method === 'OPTIONS') return reply.code(204).send();
    if (request.method === 'POST') {
      const name = sanitizeSlug(request.headers.slug as string | undefined)?.replace(/^[._~-]+/, '') || `mapping-${randomUUID().slice(0, 8)}`;
      if (this.registry.get(name)) throw new MethodNotAllowedError(`A mapfile named '${name}' exists; PUT ${this.iri}${name} to replace it`, allow);
      await this.write(request, name);
      return reply.code(201).header('location', `${this.iri}${name}`).send();
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new MethodNotAllowedError('The mappings container itself is read-only', allow);
    const quads = [
      t(this.iri, RDF_TYPE, namedNode(ldp.RDFSource)),
      t(this.iri, RDF_TYPE, namedNode(ldp.Container)),
      t(this.iri, RDF_TYPE, namedNode(ldp.BasicContainer)),
      t(this.iri, `${DCTERMS}title`, literal('RML mapfiles of the hub')),
    ];
    const members = this.registry.list().map((m) => t(this.iri, ldp.contains, namedNode(`${this.iri}${m.name}`)));
    const hash = createHash('sha256').update(this.registry.list().map((m) => `${m.name}\0${m.updatedAt}`).join('\n')).digest('base64url').slice(0, 27);
    return sendRdf(request, reply, (pref) => [...quads, ...(pref.containment ? members : [])], hash);
  }

  private async member(request: FastifyRequest, reply: FastifyReply, iri: string, name: string): Promise<FastifyReply> {
    const allow = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'];
    const entry = this.registry.get(name);
    setResourceHeaders(reply, iri, { model: 'NonRDFSource', allow, describedBy: `${iri}${META_SUFFIX}` });
    const ifMatch = request.headers['if-match'];
    const check = () => {
      if (ifMatch !== undefined && (!entry || !ifMatchMatches(ifMatch, `"${tagOf(entry.mediaType, entry.text)}"`))) {
        throw new PreconditionFailedError('If-Match does not match the current ETag of the mapfile');
      }
    };
    switch (request.method) {
      case 'PUT': {
        if (entry && ifMatch === undefined) throw new PreconditionRequiredError('Send If-Match with the ETag of the mapfile you are replacing');
        check();
        await this.write(request, name);
        return entry ? reply.code(204).send() : reply.code(201).header('location', iri).send();
      }
      case 'DELETE':
        if (!entry) throw new NotFoundError(`No mapfile named '${name}'`);
        check();
        await this.registry.delete(name);
        return reply.code(204).send();
      case 'GET':
      case 'HEAD':
      case 'OPTIONS':
        if (!entry) throw new NotFoundError(`No mapfile named '${name}'`);
        if (request.method === 'OPTIONS') return reply.code(204).send();
        reply.header('last-modified', new Date(entry.updatedAt).toUTCString());
        return sendBytes(request, reply, Buffer.from(entry.text, 'utf8'), entry.mediaType, tagOf(entry.mediaType, entry.text));
      default:
        throw new MethodNotAllowedError(`${request.method} is not supported on a mapfile`, allow);
    }
  }

  private async meta(request: FastifyRequest, reply: FastifyReply, iri: string, name: string): Promise<FastifyReply> {
    const allow = ['GET', 'HEAD', 'OPTIONS'];
    const entry = this.registry.get(name);
    if (!entry) throw new NotFoundError(`No mapfile named '${name}'`);
    const subject = iri.slice(0, -META_SUFFIX.length);
    setResourceHeaders(reply, iri, { model: 'RDFSource', allow, describes: subject });
    if (request.method === 'OPTIONS') return reply.code(204).send();
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new MethodNotAllowedError('Describedby resources of mapfiles are read-only', allow);
    const quads = [
      t(iri, RDF_TYPE, namedNode(ldp.RDFSource)),
      t(subject, `${DCTERMS}title`, literal(entry.name)),
      t(subject, `${DCTERMS}format`, literal(entry.mediaType)),
      t(subject, `${DCTERMS}modified`, literal(entry.updatedAt, namedNode('http://www.w3.org/2001/XMLSchema#dateTime'))),
      t(subject, 'http://www.w3.org/2000/01/rdf-schema#seeAlso', namedNode(`${this.authoringBase}/mappings/${entry.name}`)),
    ];
    return sendRdf(request, reply, () => quads, tagOf('meta', `${entry.name}\0${entry.updatedAt}`));
  }

  /** Validates and stores through the registry (a mapfile that does not compile is refused there, nothing stored). */
  private async write(request: FastifyRequest, name: string): Promise<void> {
    const mediaType = mediaTypeOf(request.headers['content-type']) ?? '';
    const format = formatOfMediaType(mediaType);
    if (!format) throw new UnsupportedMediaTypeError(`A mapfile is text/turtle or YARRRML (application/yaml, text/yaml), not '${mediaType}'`);
    const text = Buffer.isBuffer(request.body) ? decodeUtf8Strict(request.body, 'mapfile') : '';
    await this.registry.put(name, text, format, mediaType);
  }
}
