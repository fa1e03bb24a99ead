// Fuzz target: PATCH /things/{id} as the directory runs it: merge patch JSON -> applyMergePatch -> TD validation, and diff.
import { ValidationError } from '../../../hub/errors.ts';
import { applyMergePatch, createMergePatch, deepEqual } from '../../../hub/directory/merge-patch.ts';
import { TdValidator } from '../../../hub/directory/validator.ts';
import { enc } from '../corpus.ts';
import { jsonText } from '../generators.ts';
import { OracleError, type FuzzTarget } from '../target.ts';
import { parseJsonBody } from './td.ts';

let validator: TdValidator;

const BASE = {
  '@context': 'https://www.w3.org/2022/wot/td/v1.1',
  id: 'urn:ex:patched',
  title: 'Patched',
  securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
  security: 'nosec_sc',
  properties: { temperature: { type: 'number', forms: [{ href: 'http://h/t' }] } },
};

export const mergePatchTarget: FuzzTarget = {
  name: 'merge-patch',
  description: 'merge patch JSON -> applyMergePatch on a TD -> id check -> TdValidator.validate; createMergePatch round trip',
  tokens: ['null', '{}', '[]', '"__proto__"', '"constructor"', '"id"', '"title"', '"properties"', '{"a":null}', '"@context"'],
  seeds: () =>
    [
      { title: 'New title' },
      { properties: { temperature: null } },
      { properties: { humidity: { type: 'number', forms: [{ href: 'http://h/h' }] } } },
      { id: 'urn:other' },
      { description: null, support: 'mailto:x@example.org' },
      { __proto__: { polluted: true } },
      { registration: { ttl: 60 } },
    ].map((p) => enc(JSON.stringify(p))),
  generate: (rng) => enc(jsonText(rng)),
  setup() {
    validator = new TdValidator();
  },
  run(input) {
    const patch = parseJsonBody(input);
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new ValidationError('A merge patch of a TD must be a JSON object', [{ field: '/', description: 'must be an object' }]);
    }
    const merged = applyMergePatch(BASE, patch) as Record<string, unknown>;
    if (({} as Record<string, unknown>).polluted !== undefined) throw new OracleError('applyMergePatch polluted Object.prototype');
    // The diff the directory sends with thing_updated must reproduce the patched document.
    const diff = createMergePatch(BASE, merged);
    if (!deepEqual(applyMergePatch(BASE, diff), merged)) throw new OracleError('createMergePatch(base, merged) does not reproduce merged');
    if (merged.id !== BASE.id) throw new ValidationError('A patch may not change or remove the TD id', [{ field: '/id', description: 'must stay' }]);
    validator.validate(merged);
  },
};
