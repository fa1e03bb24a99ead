// Parsing of the LDP request headers (Link rel=type, Prefer, Slug, If-Match) and building of Link response headers.
import { LDP, ldp, MODELS, type InteractionModel } from './vocab.ts';

/** One link-value of a Link header (RFC 8288 §3). */
export interface LinkValue {
  target: string;
  rel: string[];
  params: Record<string, string>;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * Parses a Link header (RFC 8288 §3: `<target>; name=value; name="quoted"`, comma-separated); malformed members are
 * skipped (a hint header never fails a request by itself). A single left-to-right scan: the regular expressions this
 * replaced backtracked quadratically on long runs of `<` or `;` in one header value.
 */
export function parseLink(header: string | string[] | undefined): LinkValue[] {
  const text = Array.isArray(header) ? header.join(', ') : header ?? '';
  const out: LinkValue[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('<', i);
    if (open < 0) break;
    const close = text.indexOf('>', open + 1);
    if (close < 0) break; // no later '<' can be closed either
    const target = text.slice(open + 1, close);
    const params: Record<string, string> = {};
    i = close + 1;
    for (;;) {
      let j = i;
      while (isSpace(text[j])) j++;
      if (text[j] !== ';') break;
      j++;
      while (isSpace(text[j])) j++;
      const nameStart = j;
      while (j < text.length && !';,='.includes(text[j]!) && !isSpace(text[j])) j++;
      if (j === nameStart) break;
      const name = text.slice(nameStart, j).toLowerCase();
      let value = '';
      let k = j;
      while (isSpace(text[k])) k++;
      if (text[k] === '=') {
        k++;
        while (isSpace(text[k])) k++;
        const endQuote = text[k] === '"' ? text.indexOf('"', k + 1) : -1;
        if (endQuote > 0) {
          value = text.slice(k + 1, endQuote);
          k = endQuote + 1;
        } else {
          const start = k;
          while (k < text.length && !';,'.includes(text[k]!) && !isSpace(text[k])) k++;
          value = text.slice(start, k);
        }
        j = k;
      }
      params[name] = value;
      i = j;
    }
    out.push({ target, rel: (params.rel ?? '').split(/\s+/).filter(Boolean), params });
  }
  return out;
}

/**
 * The interaction model a client asks for with `Link: <ldp:X>; rel="type"` (LDP §5.2.3.4). ldp:Resource and
 * ldp:RDFSource both mean an LDP-RS; ldp:Container means a basic container. Undefined when none is given.
 */
export function requestedModel(header: string | string[] | undefined): InteractionModel | 'Unknown' | undefined {
  let found: InteractionModel | 'Unknown' | undefined;
  for (const l of parseLink(header)) {
    if (!l.rel.includes('type') || !l.target.startsWith(LDP)) continue;
    const local = l.target.slice(LDP.length);
    const model: InteractionModel | 'Unknown' =
      local === 'Resource' ? 'RDFSource' : local === 'Container' ? 'BasicContainer' : MODELS.includes(local as InteractionModel) ? (local as InteractionModel) : 'Unknown';
    // A more specific type wins over ldp:Resource (clients often send both).
    if (!found || found === 'RDFSource') found = model;
  }
  return found;
}

/** What a `Prefer: return=representation; include=...; omit=...` asks of a container representation (LDP §7.2). */
export interface ContainerPreference {
  representation: boolean;
  containment: boolean;
  membership: boolean;
  minimal: boolean;
}

export function parsePrefer(header: string | string[] | undefined): ContainerPreference {
  const text = Array.isArray(header) ? header.join(', ') : header ?? '';
  const representation = /(^|[,;\s])return\s*=\s*"?representation"?/i.test(text);
  const uris = (name: string): Set<string> => {
    const m = new RegExp(`${name}\\s*=\\s*"([^"]*)"`, 'i').exec(text) ?? new RegExp(`${name}\\s*=\\s*([^;,\\s]+)`, 'i').exec(text);
    return new Set((m?.[1] ?? '').split(/\s+/).filter(Boolean));
  };
  const include = representation ? uris('include') : new Set<string>();
  const omit = representation ? uris('omit') : new Set<string>();
  const minimal = include.has(ldp.PreferMinimalContainer) || include.has(ldp.PreferEmptyContainer);
  const part = (uri: string) => !omit.has(uri) && (!minimal || include.has(uri));
  return { representation, minimal, containment: part(ldp.PreferContainment), membership: part(ldp.PreferMembership) };
}

/** Builds a Link header value from (target, rel) pairs. */
export function linkHeader(links: Array<[string, string]>): string {
  return links.map(([target, rel]) => `<${target}>; rel="${rel}"`).join(', ');
}

/** Link rel=type values for a resource of the given model (LDP §4.2.1.4, §5.2.1.4, §4.4.1.2). */
export function typeLinks(model: InteractionModel): Array<[string, string]> {
  const links: Array<[string, string]> = [[ldp.Resource, 'type']];
  if (model === 'NonRDFSource') links.push([ldp.NonRDFSource, 'type']);
  else {
    links.push([ldp.RDFSource, 'type']);
    if (model !== 'RDFSource') links.push([ldp.Container, 'type'], [`${LDP}${model}`, 'type']);
  }
  return links;
}

/** True when an If-Match header value matches the current entity tag (RFC 9110 §13.1.1, strong comparison). */
export function ifMatchMatches(header: string, current: string, alsoMatches: (tag: string) => boolean = () => false): boolean {
  const value = header.trim();
  if (value === '*') return true;
  const tags = value.match(/(W\/)?"[^"]*"/g) ?? [];
  return tags.some((t) => !t.startsWith('W/') && (t === current || alsoMatches(t)));
}

/** A Slug (RFC 5023 §9.7) reduced to a safe single path segment: no slashes, dots-only or traversal; undefined if empty. */
export function sanitizeSlug(slug: string | undefined): string | undefined {
  if (!slug) return undefined;
  let s: string;
  try {
    s = decodeURIComponent(slug);
  } catch {
    s = slug;
  }
  s = s.normalize('NFKC').replace(/[^A-Za-z0-9._~-]+/g, '-');
  // Trimmed by index: /-+$/ backtracks quadratically on a long run of '-' that is not at the end.
  let start = 0;
  while (start < s.length && (s[start] === '.' || s[start] === '-')) start++;
  let end = s.length;
  while (end > start && s[end - 1] === '-') end--;
  s = s.slice(start, end).slice(0, 64);
  return s && !/^\.*$/.test(s) ? s : undefined;
}
