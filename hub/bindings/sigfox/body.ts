// Sigfox callback bodies as objects: a user template sent as JSON, as text (JSON or name=value pairs), a form, or a query.
import { BadRequestError } from '../../errors.ts';
import { parseFormStrict, parseJsonText } from '../../http/body.ts';

/** Most members a form or query may have: a callback template has a few dozen variables at most. */
const MAX_FIELDS = 64;

/** A form or query as a plain object (first value of a repeated name); more than MAX_FIELDS names is 400 bad-form. */
export function formObject(params: URLSearchParams): Record<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of params) {
    if (!out.has(k) && out.size >= MAX_FIELDS) throw new BadRequestError(`The callback has more than ${MAX_FIELDS} fields`, undefined, 'bad-form');
    if (!out.has(k)) out.set(k, v);
  }
  return Object.fromEntries(out);
}

/**
 * A text body (text/plain, the Content-Type a user may give a custom callback): JSON when it looks like JSON (strict:
 * a template that yields invalid JSON, such as a typographic quote, is 400 bad-json), else `name=value&...` pairs.
 */
export function callbackTextBody(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJsonText(trimmed, 'callback body');
  if (/^[^=&\s]+=/.test(trimmed)) return formObject(parseFormStrict(Buffer.from(trimmed), 'callback body'));
  throw new BadRequestError('The callback body is neither JSON nor name=value pairs', undefined, 'bad-json');
}

/** The query string of a GET callback (`?device={device}&data={data}...`), strictly decoded. */
export function callbackQuery(url: string): Record<string, string> {
  const q = url.indexOf('?');
  return formObject(parseFormStrict(Buffer.from(q < 0 ? '' : url.slice(q + 1), 'latin1'), 'query string'));
}
