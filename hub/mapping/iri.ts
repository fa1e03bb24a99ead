// IRI rules of RML-Core term generation: IRI-safe and URI-safe template values, and RFC 3987 validation of results.

/**
 * RFC 3987 §2.2 `ucschar`: the non-ASCII code points an IRI may carry unencoded. Plane 14 starts at U+E1000 (the TAG
 * and variation-selector blocks are excluded) and every plane's last two code points (nFFFE, nFFFF) are excluded.
 */
export function isUcschar(cp: number): boolean {
  if (cp < 0xa0) return false;
  if (cp <= 0xd7ff) return true;
  if (cp < 0xf900) return false; // surrogates and the BMP private use area
  if (cp <= 0xfdcf) return true;
  if (cp < 0xfdf0) return false; // the noncharacters U+FDD0..FDEF
  if (cp <= 0xffef) return true;
  if (cp < 0x10000 || cp > 0xefffd) return false;
  if ((cp & 0xffff) > 0xfffd) return false;
  return cp < 0xe0000 || cp >= 0xe1000;
}

/** RFC 3987 §2.2 `iprivate`: private-use code points, allowed in the query component only. */
export function isIprivate(cp: number): boolean {
  return (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0xffffd) || (cp >= 0x100000 && cp <= 0x10fffd);
}

const UNRESERVED = new Uint8Array(128).map((_, c) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(c)) ? 1 : 0));
const PCT = Array.from({ length: 256 }, (_, c) => `%${c.toString(16).toUpperCase().padStart(2, '0')}`);

function encodeCodePoint(cp: number): string {
  // UTF-8 octets of one code point; a lone surrogate (not a Unicode scalar value) is encoded as U+FFFD.
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) return PCT[cp]!;
  if (cp < 0x800) return PCT[0xc0 | (cp >> 6)]! + PCT[0x80 | (cp & 63)]!;
  if (cp < 0x10000) return PCT[0xe0 | (cp >> 12)]! + PCT[0x80 | ((cp >> 6) & 63)]! + PCT[0x80 | (cp & 63)]!;
  return PCT[0xf0 | (cp >> 18)]! + PCT[0x80 | ((cp >> 12) & 63)]! + PCT[0x80 | ((cp >> 6) & 63)]! + PCT[0x80 | (cp & 63)]!;
}

function safe(value: string, keepUcschar: boolean): string {
  // One pass over UTF-16 units with a lookup table: most values (ids, numbers, timestamps) are plain ASCII.
  let out = '';
  let start = 0;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c < 128) {
      if (UNRESERVED[c] === 1) continue;
      out += value.slice(start, i) + PCT[c];
      start = i + 1;
      continue;
    }
    const cp = value.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (!(keepUcschar && isUcschar(cp))) {
      out += value.slice(start, i) + encodeCodePoint(cp);
      start = i + width;
    }
    i += width - 1;
  }
  return start === 0 ? value : out + value.slice(start);
}

/**
 * The IRI-safe version of a template value (R2RML §7.3, RML-Core "IRI-safe"): every character outside RFC 3987's
 * `iunreserved` (ALPHA, DIGIT, `-._~`, ucschar) becomes the percent-encoded octets of its UTF-8 form, upper-case hex.
 * `Zoë Krüger` -> `Zoë%20Krüger`.
 */
export function iriSafe(value: string): string {
  return safe(value, true);
}

/**
 * The URI-safe version (RML-Core `rml:URI` term type, kg-construct/rml-core#262): like iriSafe but with RFC 3986's
 * `unreserved`, so every non-ASCII character is encoded too. `Zoë Krüger` -> `Zo%C3%AB%20Kr%C3%BCger`.
 */
export function uriSafe(value: string): string {
  return safe(value, false);
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** ASCII characters allowed in an IRI outside percent-encodings: unreserved, gen-delims and sub-delims (RFC 3986 §2). */
const IRI_ASCII = new Uint8Array(128).map((_, c) => (/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]/.test(String.fromCharCode(c)) ? 1 : 0));
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Why a string is not an absolute IRI per RFC 3987 (§2.2 `IRI`), or undefined when it is one. Checks the scheme, that
 * every character is allowed (no space, control, `<>"{}|\^\``, non-ucschar code points; iprivate in the query only)
 * and that every `%` starts a two-digit escape; it does not parse authorities (a host's brackets are not matched).
 */
export function iriProblem(iri: string): string | undefined {
  if (!SCHEME.test(iri)) return 'it has no scheme (a relative IRI needs a base IRI)';
  let inQuery = false;
  for (let i = 0; i < iri.length; i += 1) {
    const c = iri.charCodeAt(i);
    if (c < 128) {
      if (c === 0x25) {
        if (!HEX.test(iri.slice(i + 1, i + 3))) return `'%' at offset ${i} is not a percent-encoding`;
        i += 2;
      } else if (IRI_ASCII[c] !== 1) return `${describe(c)} at offset ${i} is not allowed in an IRI`;
      else if (c === 0x3f) inQuery = true;
      else if (c === 0x23) inQuery = false;
      continue;
    }
    const cp = iri.codePointAt(i)!;
    if (!isUcschar(cp) && !(inQuery && isIprivate(cp))) return `${describe(cp)} at offset ${i} is not allowed in an IRI`;
    if (cp > 0xffff) i += 1;
  }
  return undefined;
}

function describe(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp === 0x20 ? 'a space (U+0020)' : cp > 0x20 && cp < 0x7f ? `'${String.fromCharCode(cp)}' (${hex})` : hex;
}

/** Whether a string has a scheme, i.e. is absolute rather than relative (RFC 3987 §2.2 `IRI` vs `irelative-ref`). */
export function isAbsolute(value: string): boolean {
  return SCHEME.test(value);
}
