// LDP operations over the store (create, read, replace, patch, delete) with their rules: interaction models, URI
// minting that never reuses a URI, containment and membership, server-managed triples (W3C LDP 1.0 §4-§5).
import { createHash, randomUUID } from 'node:crypto';
import type { Quad } from '@rdfjs/types';
import { ConflictError, GoneError, MethodNotAllowedError, NotFoundError, PreconditionFailedError, PreconditionRequiredError, UnsupportedMediaTypeError } from '../errors.ts';
import type { QuadStore } from '../store/quad-store.ts';
import { decodeUtf8Strict } from '../http/body.ts';
import { parseRdfToNTriples, RDF_INPUT_TYPES } from '../sparql/rdf-formats.ts';
import { ifMatchMatches } from './headers.ts';
import { LdpMetadata, type ResourceMeta } from './metadata.ts';
import { NonRdfFiles } from './nr-files.ts';
import { applyPatch } from './patch.ts';
import { configTriples, parseNTriples, readState, stateHash, toNTriples, typeTriples, type RdfState } from './representation.ts';
import { constraintViolation, userTriples } from './constraints.ts';
import { DCTERMS, isContainerModel, ldp, LDP, META_SUFFIX, RDF_TYPE, type InteractionModel } from './vocab.ts';

export interface RequestBody {
  bytes: Buffer;
  /** Media type without parameters, lower-cased. */
  mediaType: string | undefined;
}

/** Whether a request body is RDF the server parses (else it becomes an LDP-NR). */
export function isRdfMediaType(mediaType: string | undefined): boolean {
  return !!mediaType && RDF_INPUT_TYPES.has(mediaType) && mediaType !== 'text/n3';
}

/** Strong entity tag of an LDP-NR: hash of its bytes and media type. */
function bytesTag(bytes: Buffer, mediaType: string): string {
  return createHash('sha256').update(mediaType).update('\0').update(bytes).digest('base64url').slice(0, 27);
}

export class LdpService {
  readonly meta: LdpMetadata;
  readonly files: NonRdfFiles;
  /** Serialises writes: an If-Match check and the write it guards must not interleave with another write. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: QuadStore,
    readonly baseUrl: string,
    dataDir: string,
    /** IRIs reserved for the hub's own containers (never minted, never written through the generic LDP path). */
    private readonly reserved: (iri: string) => boolean,
  ) {
    this.meta = new LdpMetadata(store, baseUrl);
    this.files = new NonRdfFiles(dataDir);
  }

  /** Operations replacing a resource graph (dropped when `ntriples` is null). */
  private graphOps(graph: string, ntriples: string | null): string[] {
    const ops = [`DROP SILENT GRAPH <${graph}>`];
    if (ntriples) ops.push(`INSERT DATA { GRAPH <${graph}> { ${ntriples} } }`);
    return ops;
  }

  /** Runs operations as one SPARQL Update: data and metadata change together, in one durable commit. */
  private commit(ops: string[]): Promise<void> {
    return this.store.update(ops.join(' ;\n'));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Creates the root basic container on first start. */
  async ensureRoot(rootIri: string): Promise<void> {
    const m = await this.meta.get(rootIri);
    if (m && m !== 'deleted') return;
    const now = new Date().toISOString();
    await this.commit([
      ...this.graphOps(rootIri, `<${rootIri}> <${DCTERMS}title> "Linked Data Platform root container of the hub" .\n`),
      ...this.meta.saveOps({ iri: rootIri, model: 'BasicContainer', created: now, modified: now }),
    ]);
  }

  /** Metadata of an existing resource; 410 for a deleted IRI, 404 for an unknown one. */
  async require(iri: string): Promise<ResourceMeta> {
    const m = await this.meta.get(iri);
    if (m === 'deleted') throw new GoneError(`${iri} was deleted; its URI is not reused`);
    if (!m) throw new NotFoundError(`No LDP resource at ${iri}`);
    return m;
  }

  /** Current RDF state and its hash (the strong entity tag of the default representation). */
  async state(m: ResourceMeta, extraMembers: string[] = []): Promise<{ state: RdfState; hash: string }> {
    const state = await readState(this.store, this.meta, m, extraMembers);
    return { state, hash: stateHash(state) };
  }

  /** The current entity tag of a resource, for If-Match. */
  async currentTag(m: ResourceMeta): Promise<string> {
    return m.model === 'NonRDFSource' ? m.bytesHash! : (await this.state(m)).hash;
  }

  private async checkIfMatch(m: ResourceMeta, ifMatch: string | undefined, required: boolean): Promise<void> {
    if (ifMatch === undefined) {
      if (required) throw new PreconditionRequiredError('Send If-Match with the ETag of the representation you are replacing (LDP §4.2.4.5)');
      return;
    }
    const tag = await this.currentTag(m);
    // Entity tags of non-default representations carry a variant suffix after the state hash ("<hash>-<variant>").
    if (!ifMatchMatches(ifMatch, `"${tag}"`, (t) => t.startsWith(`"${tag}-`))) {
      throw new PreconditionFailedError('If-Match does not match the current ETag: the resource changed since you read it');
    }
  }

  /** Mints the IRI of a new member (LDP §5.2.3.10 Slug as a hint, §5.2.3.11 never reuses a URI). */
  private async mint(container: string, slug: string | undefined, model: InteractionModel): Promise<string> {
    const suffix = isContainerModel(model) ? '/' : '';
    let name = slug && !slug.endsWith(META_SUFFIX) ? slug : undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidate = `${container}${name ?? randomUUID()}${suffix}`;
      const clash = this.reserved(candidate) || (await this.meta.taken(candidate)) || (await this.meta.taken(`${candidate}${META_SUFFIX}`));
      if (!clash) return candidate;
      name = name ? `${slug}-${randomUUID().slice(0, 8)}` : undefined;
    }
    throw new ConflictError('Could not mint a free URI for the new resource');
  }

  /** Parses an RDF body with relative IRIs resolved against `base` (LDP §4.2.1.5). */
  private parse(body: RequestBody, base: string): Quad[] {
    return parseNTriples(parseRdfToNTriples(decodeUtf8Strict(body.bytes, 'RDF body'), body.mediaType!, base));
  }

  /** POST to a container (LDP §5.2.3): returns the new resource's metadata. */
  create(containerIri: string, model: InteractionModel | undefined, slug: string | undefined, body: RequestBody): Promise<ResourceMeta> {
    return this.exclusive(async () => {
      const container = await this.require(containerIri);
      if (!isContainerModel(container.model)) {
        throw new MethodNotAllowedError('POST creates members of containers only', this.allow(container));
      }
      const effective = model ?? (isRdfMediaType(body.mediaType) ? 'RDFSource' : 'NonRDFSource');
      const iri = await this.mint(containerIri, slug, effective);
      return this.createAt(iri, containerIri, effective, body);
    });
  }

  /** PUT to a URI not in use creates the resource there (LDP §4.2.4.6 MAY); a deleted URI gives 410 (§5.2.4.2). */
  createByPut(iri: string, model: InteractionModel | undefined, body: RequestBody, ifMatch: string | undefined): Promise<ResourceMeta> {
    return this.exclusive(async () => {
      if (ifMatch !== undefined) throw new PreconditionFailedError('If-Match was sent but there is no resource to match');
      const existing = await this.meta.get(iri);
      if (existing === 'deleted') throw new GoneError(`${iri} was deleted; its URI is not reused`);
      if (existing) throw new ConflictError(`${iri} already exists`);
      const path = iri.endsWith('/') ? iri.slice(0, -1) : iri;
      const parentIri = path.slice(0, path.lastIndexOf('/') + 1);
      const parent = await this.meta.get(parentIri);
      if (!parent || parent === 'deleted' || !isContainerModel(parent.model)) {
        throw constraintViolation(`PUT creates a resource only inside an existing container; ${parentIri} is not one`);
      }
      if (iri.endsWith(META_SUFFIX) || this.reserved(iri)) throw constraintViolation(`${iri} is reserved by the server`);
      const effective = model ?? (iri.endsWith('/') ? 'BasicContainer' : isRdfMediaType(body.mediaType) ? 'RDFSource' : 'NonRDFSource');
      // Members are minted as <container IRI><name>, so container IRIs end with '/' and nothing else does.
      if (isContainerModel(effective) !== iri.endsWith('/')) {
        throw constraintViolation(`Container IRIs end with '/' and other resources' IRIs do not; ${iri} does not fit a ${effective}`);
      }
      return this.createAt(iri, parentIri, effective, body);
    });
  }

  private async createAt(iri: string, parent: string, model: InteractionModel, body: RequestBody): Promise<ResourceMeta> {
    const now = new Date().toISOString();
    if (model === 'NonRDFSource') {
      const mediaType = body.mediaType ?? 'application/octet-stream';
      await this.files.write(iri, body.bytes);
      const describedBy = `${iri}${META_SUFFIX}`;
      const m: ResourceMeta = { iri, model, parent, contentType: mediaType, bytesHash: bytesTag(body.bytes, mediaType), describedBy, created: now, modified: now };
      await this.commit([
        ...this.graphOps(describedBy, `<${iri}> <${DCTERMS}format> ${JSON.stringify(mediaType)} .\n<${iri}> <${DCTERMS}extent> "${body.bytes.length}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n`),
        ...this.meta.saveOps({ iri: describedBy, model: 'RDFSource', describes: iri, created: now, modified: now }),
        ...this.meta.saveOps(m),
      ]);
      return m;
    }
    if (!isRdfMediaType(body.mediaType)) {
      throw new UnsupportedMediaTypeError(`An ${model} needs an RDF body (text/turtle, application/ld+json, application/n-triples, application/rdf+xml)`);
    }
    // On creation the Link header decides the interaction model (LDP §5.2.3.4); ldp: types in the body are hints
    // the server replaces with its own type triples, so they are dropped rather than refused.
    const quads = this.parse(body, iri).filter((q) => !(q.subject.value === iri && q.predicate.value === RDF_TYPE && q.object.value.startsWith(LDP)));
    const m: ResourceMeta = { iri, model, parent, created: now, modified: now };
    if (model === 'DirectContainer' || model === 'IndirectContainer') this.configure(m, quads);
    const state: RdfState = { user: [], types: typeTriples(m), config: configTriples(m), containment: [], membership: [] };
    const user = userTriples(quads, m, state);
    await this.commit([...this.graphOps(iri, toNTriples(user)), ...this.meta.saveOps(m)]);
    return m;
  }

  /** Reads the membership configuration of a new direct/indirect container from its body (LDP §5.4.1.3-4, §5.5.1.2). */
  private configure(m: ResourceMeta, quads: Quad[]): void {
    const one = (p: string): string | undefined => {
      const values = quads.filter((q) => q.subject.value === m.iri && q.predicate.value === p).map((q) => q.object);
      if (values.length > 1) throw constraintViolation(`A container has at most one <${p}>`);
      if (values[0] && values[0].termType !== 'NamedNode') throw constraintViolation(`<${p}> must be an IRI`);
      return values[0]?.value;
    };
    m.membershipResource = one(ldp.membershipResource) ?? m.iri;
    m.hasMemberRelation = one(ldp.hasMemberRelation);
    m.isMemberOfRelation = one(ldp.isMemberOfRelation);
    if (m.hasMemberRelation && m.isMemberOfRelation) throw constraintViolation('Use ldp:hasMemberRelation or ldp:isMemberOfRelation, not both');
    if (!m.hasMemberRelation && !m.isMemberOfRelation) m.hasMemberRelation = ldp.member;
    const icr = one(ldp.insertedContentRelation);
    if (m.model === 'DirectContainer' && icr && icr !== ldp.MemberSubject) throw constraintViolation('A direct container uses ldp:MemberSubject');
    m.insertedContentRelation = icr ?? ldp.MemberSubject;
  }

  /** PUT replacing an existing resource (LDP §4.2.4): If-Match required, server-managed triples unchanged. */
  replace(m: ResourceMeta, model: InteractionModel | undefined, body: RequestBody, ifMatch: string | undefined): Promise<void> {
    return this.exclusive(async () => {
      const fresh = await this.require(m.iri);
      await this.checkIfMatch(fresh, ifMatch, true);
      if (model && model !== fresh.model && !(model === 'RDFSource' && fresh.model !== 'NonRDFSource')) {
        throw constraintViolation(`The interaction model of ${m.iri} is ${fresh.model}; PUT cannot change it`);
      }
      const now = new Date().toISOString();
      if (fresh.model === 'NonRDFSource') {
        const mediaType = body.mediaType ?? 'application/octet-stream';
        await this.files.write(fresh.iri, body.bytes);
        await this.meta.save({ ...fresh, contentType: mediaType, bytesHash: bytesTag(body.bytes, mediaType), modified: now });
        return;
      }
      if (!isRdfMediaType(body.mediaType)) throw new UnsupportedMediaTypeError(`${m.iri} is an RDF source: send an RDF body`);
      const incoming = this.parse(body, fresh.iri);
      const { state } = await this.state(fresh);
      await this.commit([...this.graphOps(fresh.iri, toNTriples(userTriples(incoming, fresh, state))), ...this.meta.saveOps({ ...fresh, modified: now })]);
    });
  }

  /** PATCH (LDP §4.2.7) with N3 Patch or SPARQL Update; If-Match optional. */
  patch(m: ResourceMeta, mediaType: string | undefined, text: string, ifMatch: string | undefined): Promise<void> {
    return this.exclusive(async () => {
      const fresh = await this.require(m.iri);
      if (fresh.model === 'NonRDFSource') throw new MethodNotAllowedError('PATCH applies to RDF sources; PUT new bytes instead', this.allow(fresh));
      await this.checkIfMatch(fresh, ifMatch, false);
      const { state } = await this.state(fresh);
      const all = [...state.types, ...state.config, ...state.user, ...state.containment, ...state.membership];
      const result = await applyPatch(this.store, this.baseUrl, all, mediaType, text, fresh.iri);
      const user = toNTriples(userTriples(result, fresh, state, true));
      await this.commit([...this.graphOps(fresh.iri, user), ...this.meta.saveOps({ ...fresh, modified: new Date().toISOString() })]);
    });
  }

  /** DELETE (LDP §5.2.5): containment and membership go with it; the URI is tombstoned, never minted again. */
  remove(m: ResourceMeta, ifMatch: string | undefined): Promise<void> {
    return this.exclusive(async () => {
      const fresh = await this.require(m.iri);
      if (!fresh.parent) throw new MethodNotAllowedError(`${m.iri} cannot be deleted on its own`, this.allow(fresh));
      await this.checkIfMatch(fresh, ifMatch, false);
      if (isContainerModel(fresh.model) && (await this.meta.children(fresh.iri)).length) {
        throw constraintViolation('Delete the members of a container before the container');
      }
      const ops = [...this.graphOps(fresh.iri, null), ...this.meta.tombstoneOps(fresh.iri)];
      if (fresh.describedBy) ops.push(...this.graphOps(fresh.describedBy, null), ...this.meta.tombstoneOps(fresh.describedBy));
      await this.commit(ops);
      if (fresh.model === 'NonRDFSource') await this.files.remove(fresh.iri);
    });
  }

  /** Methods a resource supports (LDP §4.2.8.2 Allow). */
  allow(m: ResourceMeta): string[] {
    const methods = ['GET', 'HEAD', 'OPTIONS', 'PUT'];
    if (m.model !== 'NonRDFSource') methods.push('PATCH');
    if (isContainerModel(m.model)) methods.push('POST');
    if (m.parent) methods.push('DELETE');
    return methods;
  }
}

