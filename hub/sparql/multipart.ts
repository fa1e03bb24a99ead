// Minimal multipart/form-data reader (RFC 7578) for Graph Store POSTs that upload several RDF documents at once.
import { BadRequestError } from '../errors.ts';

export interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Splits a multipart body into its parts. Header names are lower-cased. Throws BadRequestError (`bad-multipart`)
 * when the boundary is missing or the body does not follow it.
 */
export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m ? (m[1] ?? m[2])! : undefined;
  if (!boundary || boundary.length > 200) throw new BadRequestError('A multipart body needs a boundary', undefined, 'bad-multipart');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new BadRequestError('The multipart body does not contain its boundary', undefined, 'bad-multipart');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    const next = body.indexOf(delimiter, pos);
    if (next < 0) throw new BadRequestError('The multipart body is truncated', undefined, 'bad-multipart');
    // A part is CRLF, headers, CRLF CRLF, content, CRLF before the next delimiter (bare LF tolerated).
    const raw = body.subarray(pos, next);
    const text = raw.toString('latin1');
    const headerEnd = /\r?\n\r?\n/.exec(text.replace(/^\r?\n/, ''));
    const lead = /^\r?\n/.exec(text)?.[0].length ?? 0;
    if (!headerEnd) throw new BadRequestError('A multipart part has no header block', undefined, 'bad-multipart');
    const headerText = text.slice(lead, lead + headerEnd.index);
    const headers: Record<string, string> = {};
    for (const line of headerText.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let content = raw.subarray(lead + headerEnd.index + headerEnd[0].length);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    else if (content.subarray(-1).toString() === '\n') content = content.subarray(0, -1);
    parts.push({ headers, body: content });
    pos = next;
  }
}
