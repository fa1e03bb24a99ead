// Server-managed state of LDP resources (interaction model, parent, container config, NR media type, tombstones),
// kept as triples in the hub's LDP metadata graph so that it lives in the same store as the resources.
import type { QuadStore, JsonBinding } from '../store/quad-store.ts';
import { hubLdp, ldp, LDP, ldpMetaGraph, type InteractionModel } from './vocab.ts';

export interface ResourceMeta {
  iri: string;
  model: InteractionModel;
  /** Containing container; absent for the root and for describedby resources of an LDP-NR. */
  parent?: string;
  /** LDP-NR: stored media type, hash of the bytes and the describedby LDP-RS. */
  contentType?: string;
  bytesHash?: string;
  describedBy?: string;
  /** describedby LDP-RS: the LDP-NR it describes. */
  describes?: string;
  /** Direct and indirect containers (LDP §5.4, §5.5). */
  membershipResource?: string;
  hasMemberRelation?: string;
  isMemberOfRelation?: string;
  insertedContentRelation?: string;
  created: string;
  modified: string;
}

const XSD_DATETIME = 'http://www.w3.org/2001/XMLSchema#dateTime';
const iri = (v: string) => `<${v}>`;
const lit = (v: string) => JSON.stringify(v);

const FIELDS: Array<[keyof ResourceMeta, string, 'iri' | 'lit']> = [
  ['parent', hubLdp.parent, 'iri'],
  ['contentType', hubLdp.contentType, 'lit'],
  ['bytesHash', hubLdp.bytesEtag, 'lit'],
  ['describedBy', hubLdp.describedBy, 'iri'],
  ['describes', hubLdp.describes, 'iri'],
  ['membershipResource', ldp.membershipResource, 'iri'],
  ['hasMemberRelation', ldp.hasMemberRelation, 'iri'],
  ['isMemberOfRelation', ldp.isMemberOfRelation, 'iri'],
  ['insertedContentRelation', ldp.insertedContentRelation, 'iri'],
];

/** Reads and writes ResourceMeta in the metadata graph; one SPARQL query per read. */
export class LdpMetadata {
  readonly graph: string;
  constructor(private readonly store: QuadStore, baseUrl: string) {
    this.graph = ldpMetaGraph(baseUrl);
  }

  /** The metadata of a resource, 'deleted' for a tombstoned IRI (LDP §5.2.3.11: URIs are not reused), else undefined. */
  async get(resource: string): Promise<ResourceMeta | 'deleted' | undefined> {
    const rows = await this.store.select(`SELECT ?p ?o WHERE { GRAPH ${iri(this.graph)} { ${iri(resource)} ?p ?o } }`);
    if (!rows.length) return undefined;
    const values = new Map(rows.map((r) => [r.p!.value, r.o!.value]));
    if (values.has(hubLdp.deleted)) return 'deleted';
    const model = values.get(hubLdp.model);
    if (!model) return undefined;
    const meta: ResourceMeta = {
      iri: resource,
      model: model.slice(LDP.length) as InteractionModel,
      created: values.get(hubLdp.created) ?? '',
      modified: values.get(hubLdp.modified) ?? '',
    };
    for (const [field, predicate] of FIELDS) {
      const v = values.get(predicate);
      if (v !== undefined) (meta as unknown as Record<string, string>)[field] = v;
    }
    return meta;
  }

  /** True when the IRI is in use or was used before (a tombstone). */
  async taken(resource: string): Promise<boolean> {
    return this.store.ask(`ASK { GRAPH ${iri(this.graph)} { ${iri(resource)} ?p ?o } }`);
  }

  /** SPARQL Update operations replacing the metadata of a resource (to run in one update with the data they describe). */
  saveOps(meta: ResourceMeta): string[] {
    const triples = [
      `${iri(meta.iri)} ${iri(hubLdp.model)} ${iri(LDP + meta.model)} .`,
      `${iri(meta.iri)} ${iri(hubLdp.created)} ${lit(meta.created)}^^${iri(XSD_DATETIME)} .`,
      `${iri(meta.iri)} ${iri(hubLdp.modified)} ${lit(meta.modified)}^^${iri(XSD_DATETIME)} .`,
    ];
    for (const [field, predicate, kind] of FIELDS) {
      const v = meta[field];
      if (v !== undefined) triples.push(`${iri(meta.iri)} ${iri(predicate)} ${kind === 'iri' ? iri(v) : lit(v)} .`);
    }
    return [
      `DELETE WHERE { GRAPH ${iri(this.graph)} { ${iri(meta.iri)} ?p ?o } }`,
      `INSERT DATA { GRAPH ${iri(this.graph)} { ${triples.join('\n')} } }`,
    ];
  }

  /** Operations marking the IRI deleted: its metadata goes, a tombstone stays so that it is never minted again. */
  tombstoneOps(resource: string): string[] {
    return [
      `DELETE WHERE { GRAPH ${iri(this.graph)} { ${iri(resource)} ?p ?o } }`,
      `INSERT DATA { GRAPH ${iri(this.graph)} { ${iri(resource)} ${iri(hubLdp.deleted)} true } }`,
    ];
  }

  /** Replaces the metadata of a resource on its own. */
  async save(meta: ResourceMeta): Promise<void> {
    await this.store.update(this.saveOps(meta).join(' ;\n'));
  }

  /** Members of a container (objects of its containment triples), in IRI order. */
  async children(container: string): Promise<string[]> {
    const rows = await this.store.select(
      `SELECT ?c WHERE { GRAPH ${iri(this.graph)} { ?c ${iri(hubLdp.parent)} ${iri(container)} } } ORDER BY ?c`,
    );
    return rows.map((r) => r.c!.value);
  }

  /** Direct/indirect containers whose ldp:membershipResource is `resource` (their membership triples show there). */
  async containersWithMembershipResource(resource: string): Promise<ResourceMeta[]> {
    const rows: JsonBinding[] = await this.store.select(
      `SELECT ?c WHERE { GRAPH ${iri(this.graph)} { ?c ${iri(ldp.membershipResource)} ${iri(resource)} } }`,
    );
    const out: ResourceMeta[] = [];
    for (const r of rows) {
      const m = await this.get(r.c!.value);
      if (m && m !== 'deleted') out.push(m);
    }
    return out;
  }
}
