// RML vocabularies: RML-Core IRIs, and the rewriting of legacy rml:/rr:/ql:/fnml: terms into RML-Core ones.
import { HUB_NS } from '../store/graphs.ts';

/** RML-Core namespace (https://w3id.org/rml/core/spec). */
export const RML = 'http://w3id.org/rml/';
export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const XSD = 'http://www.w3.org/2001/XMLSchema#';
/** Legacy namespaces still used by most mapfiles in the wild and by YARRRML output. */
export const R2RML = 'http://www.w3.org/ns/r2rml#';
export const RML_LEGACY = 'http://semweb.mmlab.be/ns/rml#';
export const QL = 'http://semweb.mmlab.be/ns/ql#';
export const FNML_LEGACY = 'http://semweb.mmlab.be/ns/fnml#';
export const FNO = 'https://w3id.org/function/ontology#';
export const FNO_OLD = 'http://w3id.org/function/ontology#';
/** The per-message logical source: the `{meta, payload}` envelope the router hands to the plan. */
export const CURRENT_MESSAGE = `${HUB_NS}CurrentMessage`;

export const rml = (local: string): string => RML + local;

/** Legacy terms whose RML-Core name differs from their local name. */
const RENAMED: Record<string, string> = {
  [`${R2RML}column`]: rml('reference'),
  [`${FNML_LEGACY}functionValue`]: rml('functionValue'),
  [`${FNO}executes`]: rml('fnoExecutes'),
  [`${FNO_OLD}executes`]: rml('fnoExecutes'),
};

/**
 * Maps one IRI of the legacy vocabularies onto RML-Core (https://w3id.org/rml/core/spec, "Backwards compatibility"):
 * rr:X, rml-legacy:X and ql:X become rml:X. Returns the IRI unchanged when it is not legacy.
 */
export function normaliseIri(iri: string): { iri: string; legacy: boolean } {
  const renamed = RENAMED[iri];
  if (renamed) return { iri: renamed, legacy: true };
  for (const ns of [R2RML, RML_LEGACY, QL]) {
    if (iri.startsWith(ns)) return { iri: RML + iri.slice(ns.length), legacy: true };
  }
  return { iri, legacy: false };
}
