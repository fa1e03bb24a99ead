// The hub's own content as read-only LDP containers under /ldp/: Things (their TDs as RDF), observations per Thing
// (paged: limit, day + offset cursor, rel="next"), and the saved SPARQL queries of sparql/ (LDP-NRs with describedby).
import { createHash } from 'node:crypto';
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';
import type { HubDeps } from '../http/deps.ts';
import { thingGraph } from '../store/graphs.ts';
import { ntLine, parseNTriples } from './representation.ts';
import { SavedQueries } from './saved-queries.ts';
import type { HeaderInfo } from './responses.ts';
import { DCTERMS, ldp, META_SUFFIX, RDF_TYPE } from './vocab.ts';

const { namedNode, quad, literal } = n3.DataFactory;
const SOSA_OBSERVATION = 'http://www.w3.org/ns/sosa/Observation';
const FOAF_PRIMARY_TOPIC = 'http://xmlns.com/foaf/0.1/primaryTopic';
const RDFS_SEE_ALSO = 'http://www.w3.org/2000/01/rdf-schema#seeAlso';
const READ_ONLY = ['GET', 'HEAD', 'OPTIONS'];
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export interface VirtualResource extends HeaderInfo {
  quads?: Quad[];
  bytes?: Buffer;
  contentType?: string;
  /** Strong entity tag (without quotes). */
  tag: string;
}

const t = (s: string, p: string, o: Quad['object']) => quad(namedNode(s), namedNode(p), o);

function tagOf(quads: Quad[]): string {
  return createHash('sha256').update(quads.map(ntLine).sort().join('')).digest('base64url').slice(0, 27);
}

function container(iri: string, title: string, members: string[], links: Array<[string, string]> = []): VirtualResource {
  const quads = [
    t(iri, RDF_TYPE, namedNode(ldp.RDFSource)),
    t(iri, RDF_TYPE, namedNode(ldp.Container)),
    t(iri, RDF_TYPE, namedNode(ldp.BasicContainer)),
    t(iri, `${DCTERMS}title`, literal(title)),
    ...members.map((m) => t(iri, ldp.contains, namedNode(m))),
  ];
  return { model: 'BasicContainer', allow: READ_ONLY, quads, tag: tagOf(quads), links };
}

function rdfSource(iri: string, triples: Quad[]): VirtualResource {
  const quads = [t(iri, RDF_TYPE, namedNode(ldp.RDFSource)), ...triples];
  return { model: 'RDFSource', allow: READ_ONLY, quads, tag: tagOf(quads) };
}

/** limit, offset and day cursor of a paged listing from the query string (limit 1..1000, default 100). */
function paging(url: string): { limit: number; offset: number; day?: string } {
  const q = new URLSearchParams(url.split('?')[1] ?? '');
  const limit = Math.min(MAX_PAGE, Math.max(1, Number.parseInt(q.get('limit') ?? '', 10) || DEFAULT_PAGE));
  const offset = Math.max(0, Number.parseInt(q.get('offset') ?? '', 10) || 0);
  const day = /^\d{4}-\d{2}-\d{2}$/.test(q.get('day') ?? '') ? q.get('day')! : undefined;
  return { limit, offset, day };
}

export class HubContent {
  readonly things: string;
  readonly observations: string;
  readonly queries: string;
  private readonly saved: SavedQueries;

  constructor(private readonly deps: HubDeps, readonly root: string) {
    this.things = `${root}things/`;
    this.observations = `${root}observations/`;
    this.queries = `${root}queries/`;
    this.saved = new SavedQueries();
  }

  /** Containers of hub content the root container lists as members. */
  rootMembers(): string[] {
    return [this.things, this.observations, this.queries];
  }

  /** IRIs the generic LDP machinery must never mint or write. */
  reserved(iri: string): boolean {
    return this.rootMembers().some((c) => iri.startsWith(c) || iri === c.slice(0, -1) || iri === `${c.slice(0, -1)}${META_SUFFIX}`);
  }

  private thingIds(): string[] {
    const prefix = thingGraph(this.deps.config.baseUrl, '');
    return (this.deps.directory?.graphs() ?? []).map((g) => decodeURIComponent(g.slice(prefix.length)));
  }

  /** The resource at `iri` when it is hub content; undefined otherwise. */
  async get(iri: string, url: string): Promise<VirtualResource | undefined> {
    if (iri === this.things) return container(iri, 'Things of the hub (their Thing Descriptions as RDF)', this.thingIds().map((id) => `${iri}${encodeURIComponent(id)}`));
    if (iri === this.observations) {
      return container(iri, 'Observations of the hub, one container per Thing', this.thingIds().map((id) => `${iri}${encodeURIComponent(id)}/`));
    }
    if (iri === this.queries) return container(iri, 'Saved SPARQL queries', this.saved.names().map((n) => `${iri}${n}`));
    if (iri.startsWith(this.things)) return this.thing(iri);
    if (iri.startsWith(this.observations)) return this.observation(iri, url);
    if (iri.startsWith(this.queries)) return this.query(iri);
    return undefined;
  }

  private async thing(iri: string): Promise<VirtualResource | undefined> {
    const id = decodeURIComponent(iri.slice(this.things.length));
    if (!id || id.includes('/') || !this.deps.directory?.has(id)) return undefined;
    const triples = parseNTriples(await this.deps.store.getGraph(thingGraph(this.deps.config.baseUrl, id)));
    // The TD document of the directory (application/td+json) is the same Thing as JSON-LD.
    const td = t(iri, RDFS_SEE_ALSO, namedNode(`${this.deps.config.baseUrl}/things/${encodeURIComponent(id)}`));
    return rdfSource(iri, [td, ...triples]);
  }

  private async observation(iri: string, url: string): Promise<VirtualResource | undefined> {
    const rest = iri.slice(this.observations.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return undefined;
    const id = decodeURIComponent(rest.slice(0, slash));
    if (!this.deps.directory?.has(id)) return undefined;
    const containerIri = `${this.observations}${rest.slice(0, slash)}/`;
    const prefix = JSON.stringify(`${this.deps.config.baseUrl}/graphs/observations/${encodeURIComponent(id)}/`);
    const member = rest.slice(slash + 1);
    if (!member) return this.observationPage(id, containerIri, url);
    if (member.includes('/') || !/^[A-Za-z0-9_-]+$/.test(member)) return undefined;
    const obs = Buffer.from(member, 'base64url').toString('utf8');
    if (!/^[a-z][a-z0-9+.-]*:[^\s<>"{}|^`\\]*$/i.test(obs)) return undefined;
    const rows = await this.deps.store.select(
      `SELECT ?p ?o WHERE { GRAPH ?g { <${obs}> ?p ?o } FILTER(STRSTARTS(STR(?g), ${prefix})) }`,
    );
    if (!rows.length) return undefined;
    const lines = rows.map((r) => `<${obs}> <${r.p!.value}> ${jsonTermNt(r.o!)} .`).join('\n');
    return rdfSource(iri, [t(iri, FOAF_PRIMARY_TOPIC, namedNode(obs)), ...parseNTriples(lines)]);
  }

  /**
   * One page of a Thing's observations, newest day first. A busy device has millions, so a page never scans them all:
   * it walks the Thing's day graphs (observationGraph) from the cursor day and reads each through the graph index;
   * rel="next" carries the cursor (day + offset within that day).
   */
  private async observationPage(id: string, containerIri: string, url: string): Promise<VirtualResource> {
    const { limit, offset, day } = paging(url);
    const prefix = `${this.deps.config.baseUrl}/graphs/observations/${encodeURIComponent(id)}/`;
    const graphs = await this.deps.store.select(`SELECT DISTINCT ?g WHERE { GRAPH ?g { } FILTER(STRSTARTS(STR(?g), ${JSON.stringify(prefix)})) }`);
    const days = graphs
      .map((r) => r.g!.value.slice(prefix.length))
      .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && (!day || d <= day))
      .sort()
      .reverse();
    const members: string[] = [];
    let next: [string, number] | undefined;
    let skip = offset;
    for (const d of days) {
      const want = limit - members.length;
      const rows = await this.deps.store.select(
        `SELECT ?o WHERE { GRAPH <${prefix}${d}> { ?o a <${SOSA_OBSERVATION}> } } LIMIT ${want + 1} OFFSET ${skip}`,
      );
      members.push(...rows.slice(0, want).filter((r) => r.o!.type === 'uri').map((r) => `${containerIri}${Buffer.from(r.o!.value).toString('base64url')}`));
      if (rows.length > want) {
        next = [d, skip + want];
        break;
      }
      skip = 0;
      if (members.length >= limit) {
        const later = days[days.indexOf(d) + 1];
        if (later) next = [later, 0];
        break;
      }
    }
    const links: Array<[string, string]> = [[`${containerIri}?limit=${limit}`, 'first']];
    if (next) links.push([`${containerIri}?limit=${limit}&day=${next[0]}&offset=${next[1]}`, 'next']);
    return container(containerIri, `Observations of Thing ${id}`, members, links);
  }

  private query(iri: string): VirtualResource | undefined {
    const name = iri.slice(this.queries.length);
    if (name.endsWith(META_SUFFIX)) {
      const q = this.saved.get(name.slice(0, -META_SUFFIX.length));
      if (!q) return undefined;
      const subject = iri.slice(0, -META_SUFFIX.length);
      const triples = [
        t(subject, `${DCTERMS}title`, literal(q.title)),
        t(subject, `${DCTERMS}format`, literal('application/sparql-query')),
        ...(q.description ? [t(subject, `${DCTERMS}description`, literal(q.description))] : []),
      ];
      return { ...rdfSource(iri, triples), describes: subject };
    }
    const q = this.saved.get(name);
    if (!q) return undefined;
    const bytes = Buffer.from(q.text, 'utf8');
    return {
      model: 'NonRDFSource',
      allow: READ_ONLY,
      bytes,
      contentType: 'application/sparql-query',
      tag: createHash('sha256').update(bytes).digest('base64url').slice(0, 27),
      describedBy: `${iri}${META_SUFFIX}`,
    };
  }
}

/** A SPARQL JSON result term as N-Triples. */
function jsonTermNt(term: { type: string; value: string; datatype?: string; 'xml:lang'?: string }): string {
  if (term.type === 'uri') return `<${term.value}>`;
  if (term.type === 'bnode') return `_:${term.value.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const s = JSON.stringify(term.value);
  if (term['xml:lang']) return `${s}@${term['xml:lang']}`;
  return term.datatype ? `${s}^^<${term.datatype}>` : s;
}

