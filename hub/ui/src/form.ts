// A form generated from a JSON Schema (a WoT action's input, a property's value): types, enums, ranges, required, nested
// objects, arrays as JSON; the server's validationErrors and the browser's own constraint check marked on the fields.
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
  /** Sets the controls to `value` (e.g. a property's current value); members it lacks are left as they are. */
  fill(value: unknown): void;
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
      fill(v) {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
        for (const [k, c] of children) if (Object.hasOwn(v, k)) c.fill((v as Record<string, unknown>)[k]);
      },
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
    const fill = (v: unknown) => {
      const i = schema.enum!.findIndex((e) => JSON.stringify(e) === JSON.stringify(v));
      if (i >= 0) select.value = String(i);
    };
    return { element: wrap(select), inputs, fill, value: () => (select.value === '' ? undefined : schema.enum![Number(select.value)]) };
  }
  if (t === 'boolean') {
    const box = h('input', { type: 'checkbox', checked: schema.default === true });
    const fill = (v: unknown) => {
      if (typeof v === 'boolean') box.checked = v;
    };
    return { element: wrap(box), inputs, fill, value: () => box.checked };
  }
  if (t === 'number' || t === 'integer') {
    const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (t === 'integer' ? 1 : Number.EPSILON) : undefined);
    const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (t === 'integer' ? 1 : Number.EPSILON) : undefined);
    const input = h('input', { type: 'number', required, min, max, step: schema.multipleOf ?? (t === 'integer' ? 1 : 'any'), value: typeof schema.default === 'number' ? schema.default : undefined });
    const fill = (v: unknown) => {
      if (typeof v === 'number' && Number.isFinite(v)) input.value = String(v);
    };
    return { element: wrap(input), inputs, fill, value: () => (input.value === '' ? undefined : Number(input.value)) };
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
    const fill = (v: unknown) => {
      if (typeof v === 'string') input.value = v;
    };
    return { element: wrap(input), inputs, fill, value: () => (input.value === '' && !required ? undefined : input.value) };
  }
  // Arrays and untyped values: JSON text, parsed (a parse error is reported on the field).
  const area = h('textarea', { rows: 3, cols: 50, required, spellcheck: 'false', placeholder: t === 'array' ? '[ … ] (JSON)' : 'JSON value' });
  if (schema.default !== undefined) area.value = JSON.stringify(schema.default);
  area.addEventListener('input', () => area.setCustomValidity('')); // else the last parse error blocks every submit
  return {
    element: wrap(area),
    inputs,
    fill(v) {
      if (v !== undefined) area.value = JSON.stringify(v);
    },
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

/** Takes the marks of `markErrors` and `markInvalid` off a form (before it is sent again). */
export function clearErrors(form: HTMLElement): void {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Marks the server's validationErrors (RFC 9457 extension of hub/http/problem.ts; `field` a JSON Pointer, "/" or "" the
 * value itself) on their controls: aria-invalid and the message after the control. `prefixes` are pointers the server
 * puts in front of the form's own (an action's "/input"); an error on no control of the form goes after `fallback`.
 */
export function markErrors(part: FormPart | undefined, errors: Array<{ field: string; description: string }>, fallback: HTMLElement, prefixes: string[] = []): void {
  for (const v of errors) {
    const ptr = v.field === '' || v.field === '/' ? '' : v.field.startsWith('/') ? v.field : `/${v.field}`;
    const candidates = [ptr, ...prefixes.filter((p) => ptr === p || ptr.startsWith(`${p}/`)).map((p) => ptr.slice(p.length))];
    const control = candidates.map((c) => part?.inputs.get(c)).find((el) => el !== undefined);
    control?.setAttribute('aria-invalid', 'true');
    (control ?? fallback).after(h('span', { class: 'field-error', role: 'alert' }, `${v.field}: ${v.description}`));
  }
}

/**
 * Marks what the browser's own constraint check refuses (HTML §4.10.21: a value out of the schema's range, length,
 * pattern, a required one missing) as `markErrors` marks the server's, its validationMessage after the control. The
 * check runs on a submit before any submit event (which then never fires) and on reportValidity(): each invalid control
 * gets an `invalid` event (not bubbling, so caught here on the way down); the first of one check clears the old marks.
 */
export function markInvalid(form: HTMLFormElement): void {
  let checking = false;
  form.addEventListener(
    'invalid',
    (ev) => {
      const el = ev.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
      if (!checking) {
        checking = true;
        clearErrors(form);
        queueMicrotask(() => (checking = false));
      }
      el.setAttribute('aria-invalid', 'true');
      el.after(h('span', { class: 'field-error' }, el.validationMessage)); // no role=alert: the browser's bubble speaks
    },
    true,
  );
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
