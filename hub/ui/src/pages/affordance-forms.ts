// The forms of a Thing's affordances that queue a command: invokeaction for an action, writeproperty for a property.
import { enc } from '../api.ts';
import { h } from '../dom.ts';
import { schemaForm, type Schema } from '../form.ts';
import type { WriteTarget } from '../../../directory/writable-properties.ts';
import { submitCommand } from './command.ts';

/** A property, action or event of a TD (W3C WoT TD 1.1 §5.3.1 InteractionAffordance), with the members the UI reads. */
export type Affordance = Schema & {
  title?: string;
  description?: string;
  observable?: boolean;
  writeOnly?: boolean;
  unit?: string;
  input?: Schema;
  output?: Schema;
  data?: Schema;
};

/** One action: its input form, Invoke (act token), then the command's state as it moves, with Cancel. */
export function actionForm(thingId: string, name: string, a: Affordance, signal: AbortSignal, changed: () => void): HTMLElement {
  const part = a.input ? schemaForm(a.input, 'input') : undefined;
  const state = h('div', { class: 'command', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'action', 'data-action': name, novalidate: false },
    h('h3', {}, a.title ?? name),
    a.description ? h('p', { class: 'muted' }, a.description) : null,
    part?.element ?? null,
    h('button', { type: 'submit' }, `Invoke ${a.title ?? name}`),
    state,
  );
  submitCommand(form, part, state, { method: 'POST', path: `/wot/${enc(thingId)}/actions/${enc(name)}`, prefixes: ['/input'] }, signal, changed);
  return form;
}

/**
 * writeproperty of one property with `hub:writeAction`: a form from the property's own schema (prefilled with its current
 * value until the user edits it), Set (PUT of the JSON value, act token), then the command's states as an action's.
 */
export function propertyForm(thingId: string, name: string, p: Affordance, target: WriteTarget, signal: AbortSignal, changed: () => void): { element: HTMLFormElement; show(value: unknown): void } {
  const part = schemaForm(p, name, '', true);
  const state = h('div', { class: 'command', 'aria-live': 'polite' });
  const form = h('form', { class: 'write', 'data-property': name }, part.element, h('button', { type: 'submit' }, `Set ${p.title ?? name}`), state);
  let edited = false;
  form.addEventListener('input', () => (edited = true));
  // The hub checks the value, then the action input it becomes: an error on that member (/<hub:writeInput>) is this field's.
  const member = target.input === undefined ? [] : [`/${target.input.replace(/~/g, '~0').replace(/\//g, '~1')}`];
  submitCommand(form, part, state, { method: 'PUT', path: `/wot/${enc(thingId)}/properties/${enc(name)}`, prefixes: member }, signal, changed, () => (edited = false));
  return {
    element: form,
    show(value) {
      if (!edited) part.fill(value);
    },
  };
}
