// Writable device properties: a TD property names the action that carries a write (`hub:writeAction`, `hub:writeInput`).
/**
 * W3C WoT TD 1.1 §5.3.2.4 defaults `readOnly` to false, but a device's settings reach it only as downlink commands, so
 * the hub serves writeproperty only where the TD says which action carries the write: `"hub:writeAction": "<action>"`
 * names an action of the same TD, and `"hub:writeInput": "<member>"` the member of that action's input object that
 * receives the value (absent: the value is the whole input). A property without `hub:writeAction` is read-only on the
 * hub whatever its `readOnly` says; one with `readOnly: true` besides is refused when the TD is put.
 */
export const WRITE_ACTION = 'hub:writeAction';
export const WRITE_INPUT = 'hub:writeInput';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a write of the property becomes: an invokeaction of `action`, the value under `input` (or as the input). */
export interface WriteTarget {
  action: string;
  input?: string;
}

/** The action a write of this property affordance goes to; undefined when the hub does not serve its writeproperty. */
export function writeTarget(property: unknown): WriteTarget | undefined {
  if (!isObject(property) || property.readOnly === true) return undefined;
  const action = property[WRITE_ACTION];
  if (typeof action !== 'string' || action === '') return undefined;
  const input = property[WRITE_INPUT];
  return typeof input === 'string' ? { action, input } : { action };
}

/** The action input a write of `value` sends: `{[input]: value}`, or the value itself. */
export function writeActionInput(target: WriteTarget, value: unknown): unknown {
  return target.input === undefined ? value : { [target.input]: value };
}

/** Names of a TD's properties the hub can write. */
export function writableProperties(td: unknown): string[] {
  const properties = isObject(td) && isObject(td.properties) ? td.properties : {};
  return Object.keys(properties).filter((name) => writeTarget(properties[name]) !== undefined);
}

/** RFC 6901 reference token. */
const token = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Problems of a TD's `hub:writeAction` / `hub:writeInput` members, each naming the member by its JSON Pointer: the
 * action must be one of the TD's, take an input, and `hub:writeInput` must be a property of that input's object schema.
 */
export function writablePropertyProblems(td: unknown): Array<{ field: string; description: string }> {
  if (!isObject(td) || !isObject(td.properties)) return [];
  const actions = isObject(td.actions) ? td.actions : {};
  const problems: Array<{ field: string; description: string }> = [];
  for (const [name, p] of Object.entries(td.properties)) {
    if (!isObject(p) || (p[WRITE_ACTION] === undefined && p[WRITE_INPUT] === undefined)) continue;
    const at = `/properties/${token(name)}`;
    const action = p[WRITE_ACTION];
    if (typeof action !== 'string' || action === '') {
      problems.push({ field: `${at}/${WRITE_ACTION}`, description: p[WRITE_ACTION] === undefined ? `is required with ${WRITE_INPUT}` : 'must name an action of this TD (a string)' });
      continue;
    }
    if (p.readOnly === true) problems.push({ field: `${at}/readOnly`, description: `must not be true on a property with ${WRITE_ACTION} (the hub writes it)` });
    const affordance = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!isObject(affordance)) {
      problems.push({ field: `${at}/${WRITE_ACTION}`, description: `names '${action.slice(0, 128)}', which is not an action of this TD (${Object.keys(actions).slice(0, 16).join(', ') || 'none'})` });
      continue;
    }
    const schema = affordance.input;
    if (!isObject(schema)) {
      problems.push({ field: `${at}/${WRITE_ACTION}`, description: `names '${action.slice(0, 128)}', which takes no input to write the value into` });
      continue;
    }
    const input = p[WRITE_INPUT];
    if (input === undefined) continue;
    const members = isObject(schema.properties) ? schema.properties : {};
    if (typeof input !== 'string' || !Object.hasOwn(members, input)) {
      problems.push({ field: `${at}/${WRITE_INPUT}`, description: `must name a property of the input of action '${action.slice(0, 128)}' (${Object.keys(members).slice(0, 16).join(', ') || 'none'})` });
    }
  }
  return problems;
}
