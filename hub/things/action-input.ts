// Validates the input of a WoT action (or a writeproperty value) against its DataSchema before node-wot sees it (400, never 500).
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BadRequestError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { parseJsonBody } from '../http/body.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * node-wot 0.8.16 answers invalid action input with 500; the hub checks the input first (W3C WoT TD 1.1 §5.3.2 DataSchema
 * is a JSON Schema subset) and reports every failing field as a 400 `validation-failed` problem.
 */
export class ActionInputValidator {
  // TD DataSchemas carry non-JSON-Schema terms (unit, @type, observable, readOnly): strict mode would reject them.
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: true, validateSchema: false }));
  private readonly compiled = new WeakMap<object, ValidateFunction>();

  /**
   * Parses the body (JSON or empty) and returns the value, or throws a 4xx HubError. `of` says whose body it is: an
   * action's input (default) or the value of a writeproperty (then `schema` is the property affordance itself).
   */
  parse(body: Buffer | undefined, contentType: string | undefined, schema: object | undefined, name: string, of: 'action' | 'property' = 'action'): unknown {
    const what = `${of} '${name}'`;
    const noun = of === 'action' ? 'input' : 'value';
    const empty = body === undefined || body.length === 0;
    let value: unknown;
    if (!empty) {
      const mt = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
      if (mt !== 'application/json' && !mt.endsWith('+json')) {
        throw new UnsupportedMediaTypeError(`${capital(what)} takes application/json ${noun}, not ${mt}`);
      }
      // Strict UTF-8 and bounded depth (hub/http/body.ts): malformed bytes are 400 bad-encoding, bad JSON 400 bad-json.
      value = parseJsonBody(body, `${noun} of ${what}`);
    }
    if (schema === undefined) {
      if (!empty) throw new BadRequestError(`${capital(what)} takes no input`);
      return undefined;
    }
    if (empty) {
      // The members the schema requires are named (e.g. clearDtcs' /confirm), so a client sees what to send.
      const required = requiredOf(schema);
      const article = noun === 'input' ? 'an' : 'a';
      throw new ValidationError(`${capital(what)} needs ${article} ${noun}`, required.length ? required.map((r) => ({ field: `/${pointerEscape(r)}`, description: 'is required' })) : [{ field: '/', description: `${article} ${noun} is required` }]);
    }
    return this.check(value, schema, name, of);
  }

  /** Checks an already parsed value (e.g. the action input a property write becomes) against a schema; 400 otherwise. */
  check(value: unknown, schema: object, name: string, of: 'action' | 'property' = 'action'): unknown {
    const validate = this.validatorFor(schema);
    if (!validate(value)) {
      // A missing member is named by its own pointer (`/confirm`, not the object's `/`); so are the required members
      // of an object schema given something that is not an object.
      const errors = (validate.errors ?? []).map((e) => ({ field: e.keyword === 'required' && typeof e.params.missingProperty === 'string' ? `${e.instancePath}/${pointerEscape(e.params.missingProperty)}` : e.instancePath || '/', description: e.message ?? e.keyword }));
      const notObject = typeof value !== 'object' || value === null || Array.isArray(value);
      if (notObject && (schema as { type?: unknown }).type === 'object') errors.push(...requiredOf(schema).map((r) => ({ field: `/${pointerEscape(r)}`, description: 'is required' })));
      throw new ValidationError(`The ${of === 'action' ? 'input' : 'value'} of ${of} '${name}' does not match its schema`, errors);
    }
    return value;
  }

  private validatorFor(schema: object): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) {
      try {
        v = this.ajv.compile(schema);
      } catch (e) {
        throw new BadRequestError(`The action's input schema cannot be compiled: ${(e as Error).message}`);
      }
      this.compiled.set(schema, v);
    }
    return v;
  }
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** RFC 6901 reference token. */
const pointerEscape = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** The member names an object schema requires. */
const requiredOf = (schema: object): string[] => {
  const r = (schema as { required?: unknown }).required;
  return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
};
