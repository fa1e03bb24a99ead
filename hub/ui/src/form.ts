// A form generated from a JSON Schema (a WoT action's input): types, enums, ranges, required, nested objects, arrays as JSON.
import { h, uid } from './dom.ts';

export interface Schema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  readOnly?: boolean;
  [k: string]: unknown;
}

/** A generated form part: its element and how to read its value (undefined = left empty). */
export interface FormPart {
  element: HTMLElement;
  value(): unknown;
  /** Inputs by JSON pointer ("" for the root), for placing the server's errors. */
  inputs: Map<string, HTMLElement>;
}

function typeOf(s: Schema): string | undefined {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null');
  if (s.type) return s.type;
  if (s.properties) return 'object';
  if (s.enum) return typeof s.enum[0] === 'number' ? 'number' : 'string';
  return undefined;
}

/** The form for `schema` named `name`, at JSON pointer `pointer`; `required` marks the control as required. */
export function schemaForm(schema: Schema, name: string, pointer = '', required = false): FormPart {
  const t = typeOf(schema);
  const label = `${schema.title ?? name}${required ? ' *' : ''}`;
  const inputs = new Map<string, HTMLElement>();
  const id = uid('in');
  const hint = [schema.description, rangeText(schema)].filter(Boolean).join(' · ');
  const wrap = (control: HTMLElement): HTMLElement => {
    inputs.set(pointer, control);
    control.id = id;
    if (required) control.setAttribute('aria-required', 'true');
    const parts: Array<Node> = [h('label', { for: id }, label), control];
    if (hint) {
      const hid = uid('hint');
      control.setAttribute('aria-describedby', hid);
      parts.push(h('small', { id: hid, class: 'muted' }, hint));
    }
    return h('div', { class: 'field', 'data-pointer': pointer }, ...parts);
  };

  if (t === 'object') {
    const children = Object.entries(schema.properties ?? {})
      .filter(([, s]) => !s.readOnly)
      .map(([k, s]) => [k, schemaForm(s, k, `${pointer}/${k}`, (schema.required ?? []).includes(k))] as const);
    for (const [, c] of children) for (const [p, el] of c.inputs) inputs.set(p, el);
    const element = h('fieldset', { 'data-pointer': pointer }, h('legend', {}, label), children.map(([, c]) => c.element));
    if (schema.description) element.append(h('small', { class: 'muted' }, schema.description));
    return {
      element,
      inputs,
      value() {
        const out: Record<string, unknown> = {};
        for (const [k, c] of children) {
          const v = c.value();
          if (v !== undefined) out[k] = v;
        }
        return Object.keys(out).length || required || pointer === '' ? out : undefined;
      },
    };
  }
  if (schema.enum) {
    const select = h('select', { required }, required ? null : h('option', { value: '' }, '—'), schema.enum.map((v, i) => h('option', { value: String(i), selected: v === schema.default }, String(v))));
    return { element: wrap(select), inputs, value: () => (select.value === '' ? undefined : schema.enum![Number(select.value)]) };
  }
  if (t === 'boolean') {
    const box = h('input', { type: 'checkbox', checked: schema.default === true });
    return { element: wrap(box), inputs, value: () => box.checked };
  }
  if (t === 'number' || t === 'integer') {
    const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (t === 'integer' ? 1 : Number.EPSILON) : undefined);
    const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (t === 'integer' ? 1 : Number.EPSILON) : undefined);
    const input = h('input', { type: 'number', required, min, max, step: schema.multipleOf ?? (t === 'integer' ? 1 : 'any'), value: typeof schema.default === 'number' ? schema.default : undefined });
    return { element: wrap(input), inputs, value: () => (input.value === '' ? undefined : Number(input.value)) };
  }
  if (t === 'string') {
    const input = h('input', {
      type: 'text',
      required,
      minlength: schema.minLength,
      maxlength: schema.maxLength,
      pattern: schema.pattern,
      value: typeof schema.default === 'string' ? schema.default : undefined,
      placeholder: schema.format ?? undefined,
      size: 40,
    });
    return { element: wrap(input), inputs, value: () => (input.value === '' && !required ? undefined : input.value) };
  }
  // Arrays and untyped values: JSON text, parsed (a parse error is reported on the field).
  const area = h('textarea', { rows: 3, cols: 50, required, spellcheck: 'false', placeholder: t === 'array' ? '[ … ] (JSON)' : 'JSON value' });
  if (schema.default !== undefined) area.value = JSON.stringify(schema.default);
  return {
    element: wrap(area),
    inputs,
    value() {
      if (area.value.trim() === '') return undefined;
      try {
        area.setCustomValidity('');
        return JSON.parse(area.value);
      } catch {
        area.setCustomValidity('not valid JSON');
        area.reportValidity();
        throw new Error(`${pointer || name}: not valid JSON`);
      }
    },
  };
}

function rangeText(s: Schema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
  if (s.pattern) parts.push(`pattern ${s.pattern}`);
  if (s.unit) parts.push(String(s.unit));
  return parts.join(', ');
}
