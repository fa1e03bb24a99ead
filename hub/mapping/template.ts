// RML string templates: literal text and {reference} parts, with the spec's backslash escapes.

import { MappingError } from '../errors.ts';

export type TemplatePart = { text: string } | { ref: string };

/**
 * Parses an rml:template (https://w3id.org/rml/core/spec, "Template-valued term maps"): `{` and `}` delimit references;
 * `\{`, `\}` and `\\` are literal braces/backslash, in text and inside references. A nested or unbalanced brace, an
 * empty reference or a dangling backslash is an invalid mapfile (MappingError naming the template).
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let buf = '';
  let inRef = false;
  const bad = (why: string): never => {
    throw new MappingError(`Invalid template "${template}": ${why}`, { term: template });
  };
  for (let i = 0; i < template.length; i += 1) {
    const c = template[i]!;
    if (c === '\\') {
      const n = template[i + 1];
      if (n !== '{' && n !== '}' && n !== '\\') bad(`'\\' must escape '{', '}' or '\\' (offset ${i})`);
      buf += n;
      i += 1;
    } else if (c === '{') {
      if (inRef) bad(`unescaped '{' inside a reference (offset ${i})`);
      if (buf) parts.push({ text: buf });
      buf = '';
      inRef = true;
    } else if (c === '}') {
      if (!inRef) bad(`unescaped '}' outside a reference (offset ${i})`);
      if (!buf) bad(`empty reference (offset ${i})`);
      parts.push({ ref: buf });
      buf = '';
      inRef = false;
    } else buf += c;
  }
  if (inRef) bad("a reference is not closed with '}'");
  if (buf) parts.push({ text: buf });
  return parts;
}
