// Proactive content negotiation (RFC 9110 §12.5.1): parses Accept and picks the best offered media type.

export interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  /** Position in the header; breaks ties between equally specific ranges of equal q. */
  index: number;
}

/** Parses an Accept header into media ranges; malformed members are ignored, q is clamped to [0, 1]. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || !header.trim()) return [];
  const ranges: MediaRange[] = [];
  header.split(',').forEach((member, index) => {
    const [range, ...params] = member.split(';').map((s) => s.trim());
    const m = /^([\w.+*!#$&^-]+)\/([\w.+*!#$&^-]+)$/.exec(range ?? '');
    if (!m) return;
    let q = 1;
    for (const p of params) {
      const qm = /^q\s*=\s*([0-9.]+)$/i.exec(p);
      if (qm) q = Math.min(1, Math.max(0, Number(qm[1]) || 0));
    }
    ranges.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q, index });
  });
  return ranges;
}

function specificity(r: MediaRange): number {
  return r.type === '*' ? 0 : r.subtype === '*' ? 1 : 2;
}

/** The q-value the Accept ranges give one media type: that of the most specific matching range, 0 when none matches. */
function qualityOf(ranges: MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.toLowerCase().split('/');
  let best: MediaRange | undefined;
  for (const r of ranges) {
    const matches = (r.type === '*' || r.type === type) && (r.subtype === '*' || r.subtype === subtype);
    if (matches && (!best || specificity(r) > specificity(best))) best = r;
  }
  return best ? best.q : 0;
}

/**
 * Picks the offered media type the client prefers (highest q; ties go to the server's order in `offered`).
 * No Accept header (or an empty one) means "anything": the first offered type. Returns undefined when the client
 * accepts none of them; the caller answers 406. `aliases` maps extra accepted types (e.g. application/json) onto an
 * offered type.
 */
export function negotiate(
  accept: string | undefined,
  offered: readonly string[],
  aliases: Record<string, string> = {},
): string | undefined {
  const ranges = parseAccept(accept);
  if (!ranges.length) return offered[0];
  let best: string | undefined;
  let bestQ = 0;
  for (const type of offered) {
    let q = qualityOf(ranges, type);
    for (const [alias, target] of Object.entries(aliases)) {
      if (target === type) q = Math.max(q, ranges.some((r) => `${r.type}/${r.subtype}` === alias) ? qualityOf(ranges, alias) : 0);
    }
    if (q > bestQ) {
      best = type;
      bestQ = q;
    }
  }
  return best;
}

/** The media type of a Content-Type header without parameters, lower-cased; undefined when absent. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

/** The charset parameter of a Content-Type header, lower-cased; undefined when absent. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}
