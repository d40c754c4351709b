import type { AdaptiveCard } from '@microsoft/teams-ai';
import { CardFactory, MessageFactory, type Activity } from 'botbuilder';
import {
  type Block, type Button, type FileOut, type Form, type FormField, type ImageBlock, type ListItem, type Reply, type Tone, imageInWords, notificationText,
} from '../../src/core/reply.js';

/** The newest Adaptive Card schema Teams renders on desktop, web and mobile. */
export const CARD_VERSION = '1.5';
/** Every Action.Submit the bot renders carries this verb, so teams-ai routes the click back to the bot. */
export const SUBMIT_VERB = 'isms';
/** Input ids are prefixed so a field name can never collide with the keys of the submit data. */
export const INPUT_PREFIX = 'field:';
/** The Adaptive Cards host default: more actions in one set are dropped. */
const MAX_ACTIONS_PER_SET = 5;

/** What a click sends back: a button's command line, or a form's command with its hidden values. */
export interface SubmitData {
  verb: typeof SUBMIT_VERB;
  command?: string;
  form?: string;
  hidden?: Record<string, string>;
  /** Names of multi-select fields: Teams submits their values as one comma-separated string. */
  multi?: string[];
  /** How the form looked, so a refused submission can show it again with each reason under its field. */
  layout?: FormLayout;
}

export type FormLayout = Pick<Form, 'title' | 'fields' | 'submitLabel'>;

type Element = Record<string, unknown>;

const TONE_COLOR: Record<Tone, string | undefined> = { info: undefined, success: 'Good', warning: 'Warning', error: 'Attention' };

/** A reply as the message activity Teams shows: one card, with a plain sentence for notifications. */
export function cardActivity(reply: Reply): Partial<Activity> {
  return { ...MessageFactory.attachment(CardFactory.adaptiveCard(replyCard(reply))), summary: plainWords(notificationText(reply)) };
}

/**
 * Teams has no slash commands: people type "help", not "/isms help". The core words its texts for
 * the channel; this catches any text that still carries the prefix.
 */
export const plainWords = (text: string): string => text.replaceAll('/isms ', '');

/** Renders the neutral reply as one Adaptive Card; a footer line (who recorded it, when) may follow. */
export function replyCard(reply: Reply, footer?: string): AdaptiveCard {
  const body: Element[] = [];
  let separateNext = false;
  const push = (element: Element) => {
    if (separateNext) Object.assign(element, { separator: true, spacing: 'Medium' });
    separateNext = false;
    body.push(element);
  };
  for (const block of reply.blocks) {
    if (block.type === 'divider') separateNext = body.length > 0;
    else for (const element of renderBlock(block, reply.fieldErrors ?? {})) push(element);
  }
  if (body.length === 0) push(textBlock('Done.'));
  if (footer) push({ ...textBlock(footer), isSubtle: true, size: 'Small', separator: true });
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    fallbackText: plainWords(notificationText(reply)),
    msteams: { width: 'Full' },
    body,
  };
}

function renderBlock(block: Exclude<Block, { type: 'divider' }>, fieldErrors: Record<string, string>): Element[] {
  switch (block.type) {
    case 'text':
      return [{ ...textBlock(block.text), ...(block.tone && TONE_COLOR[block.tone] ? { color: TONE_COLOR[block.tone] } : {}), ...(block.tone === 'error' ? { weight: 'Bolder' } : {}) }];
    case 'fields':
      return [
        ...(block.title ? [heading(block.title)] : []),
        ...(block.fields.length ? [factSet(block.fields)] : []),
      ];
    case 'list': {
      const out: Element[] = block.title ? [heading(block.title)] : [];
      if (block.items.length === 0) out.push({ ...textBlock(block.empty ?? 'Nothing here.'), isSubtle: true });
      for (const item of block.items) out.push(listItem(item));
      if (block.page && block.page.total > 1) {
        out.push({ ...textBlock(`Page ${block.page.number} of ${block.page.total}`), isSubtle: true, size: 'Small' });
        const nav: Button[] = [];
        if (block.page.previous) nav.push({ label: 'Previous page', command: block.page.previous });
        if (block.page.next) nav.push({ label: 'Next page', command: block.page.next });
        out.push(...actionSets(nav));
      }
      return out;
    }
    case 'actions':
      return actionSets(block.buttons);
    case 'form':
      return [formContainer(block.form, fieldErrors)];
    case 'file':
      // The outbound offers files in a personal chat; a card on its own can only say where to get it.
      return [textBlock(fileOnlyInPersonalChat(block.file))];
    case 'image':
      // The picture follows as its own activity (imageActivity): inline in the card it would take the card past Teams' message size.
      return [{ ...textBlock(imageInWords(block)), isSubtle: true }];
  }
}

/**
 * An image as its own message: an inline attachment with the PNG as a data URI, which Teams shows
 * in personal and group chats (up to 1 MB, 1024×1024). Each chart goes alone: a bot message should
 * stay within about 80 KB (Teams refuses past about 100 KB with 413), and a card holding several
 * charts inline could pass that.
 */
export function imageActivity(image: ImageBlock): Partial<Activity> {
  return {
    ...MessageFactory.attachment({ contentType: 'image/png', contentUrl: `data:image/png;base64,${image.pngBase64}`, name: image.fileName }),
    text: plainWords(image.title),
    summary: plainWords(image.title),
  };
}

/** Teams takes files from a bot only in a personal chat, with the person's consent. */
export const fileOnlyInPersonalChat = (file: FileOut) =>
  `📎 ${file.title}: I can send files only in our personal chat. Ask me there and I'll offer it to you.`;

const textBlock = (text: string): Element => ({ type: 'TextBlock', text: plainWords(text), wrap: true });
const heading = (text: string): Element => ({ ...textBlock(text), weight: 'Bolder' });
const factSet = (facts: { label: string; value: string }[]): Element =>
  ({ type: 'FactSet', facts: facts.map((f) => ({ title: plainWords(f.label), value: plainWords(f.value) })) });

function listItem(item: ListItem): Element {
  const items: Element[] = [heading(item.title)];
  if (item.detail) items.push({ ...textBlock(item.detail), isSubtle: true, spacing: 'None' });
  if (item.fields?.length) items.push(factSet(item.fields));
  if (item.buttons?.length) items.push(...actionSets(item.buttons));
  return { type: 'Container', separator: true, items };
}

function submitAction(button: Button): Element {
  const data: SubmitData = { verb: SUBMIT_VERB, command: button.command };
  return {
    type: 'Action.Submit',
    title: button.label,
    data,
    // A button runs its own command line: it must not validate or collect a form's inputs on the same card.
    associatedInputs: 'none',
    ...(button.style ? { style: button.style === 'primary' ? 'positive' : 'destructive' } : {}),
  };
}

function actionSets(buttons: Button[]): Element[] {
  const sets: Element[] = [];
  for (let i = 0; i < buttons.length; i += MAX_ACTIONS_PER_SET) {
    sets.push({ type: 'ActionSet', actions: buttons.slice(i, i + MAX_ACTIONS_PER_SET).map(submitAction) });
  }
  return sets;
}

/** A form's inputs; a refused submission's reason for a field stands right under that field. */
function formContainer(form: Form, fieldErrors: Record<string, string>): Element {
  const items: Element[] = [{ ...heading(form.title), size: 'Medium' }];
  for (const field of form.fields) {
    items.push(input(field));
    if (field.hint) items.push({ ...textBlock(field.hint), isSubtle: true, size: 'Small', spacing: 'None' });
    const error = fieldErrors[field.name];
    if (error) items.push({ ...textBlock(`${field.label}: ${error}`), color: 'Attention', size: 'Small', spacing: 'None' });
  }
  const data: SubmitData = {
    verb: SUBMIT_VERB,
    form: form.command,
    ...(form.hidden && Object.keys(form.hidden).length ? { hidden: form.hidden } : {}),
    ...(form.fields.some((f) => f.type === 'multiselect') ? { multi: form.fields.filter((f) => f.type === 'multiselect').map((f) => f.name) } : {}),
    layout: { title: form.title, fields: form.fields, ...(form.submitLabel ? { submitLabel: form.submitLabel } : {}) },
  };
  items.push({ type: 'ActionSet', actions: [{ type: 'Action.Submit', title: form.submitLabel ?? 'Submit', style: 'positive', data }] });
  return { type: 'Container', items };
}

function input(field: FormField): Element {
  const common: Element = {
    id: INPUT_PREFIX + field.name,
    label: field.label,
    ...(field.required ? { isRequired: true, errorMessage: `${field.label} is required.` } : {}),
  };
  const initial = Array.isArray(field.initial) ? field.initial.join(',') : field.initial;
  switch (field.type) {
    case 'text':
    case 'textarea':
      return {
        type: 'Input.Text', ...common,
        ...(field.type === 'textarea' ? { isMultiline: true } : {}),
        ...(field.placeholder ? { placeholder: plainWords(field.placeholder) } : {}),
        ...(initial ? { value: initial } : {}),
      };
    case 'date':
      return { type: 'Input.Date', ...common, ...(initial ? { value: initial } : {}) };
    case 'number':
      return {
        type: 'Input.Number', ...common,
        // Adaptive Cards have no whole-number input: the core refuses a decimal under the field.
        ...(field.min !== undefined ? { min: field.min } : {}),
        ...(field.max !== undefined ? { max: field.max } : {}),
        ...(field.placeholder ? { placeholder: plainWords(field.placeholder) } : {}),
        ...(initial && Number.isFinite(Number(initial)) ? { value: Number(initial) } : {}),
      };
    case 'select':
    case 'multiselect':
      // A choice set without choices is invalid: with nothing to offer, the value is typed.
      if (!field.options?.length) return input({ ...field, type: 'text', initial });
      return {
        type: 'Input.ChoiceSet', ...common,
        style: 'compact',
        ...(field.type === 'multiselect' ? { isMultiSelect: true } : {}),
        ...(field.placeholder ? { placeholder: plainWords(field.placeholder) } : {}),
        choices: (field.options ?? []).map((o) => ({ title: o.label, value: o.value })),
        ...(initial ? { value: initial } : {}),
      };
    case 'file':
      // A card cannot carry a file: the person sends it in this chat as a reply to the card.
      return { ...textBlock(`📎 ${field.label}: send the file to me in this chat, as a reply to this message.`), isSubtle: true };
  }
}

/** The values a submitted form carries: its inputs (prefix removed), multi-selects as lists, then its hidden values. */
export function formValues(submitted: Record<string, unknown>): Record<string, unknown> {
  const data = submitted as Partial<SubmitData> & Record<string, unknown>;
  const multi = new Set(Array.isArray(data.multi) ? data.multi : []);
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!key.startsWith(INPUT_PREFIX)) continue;
    const name = key.slice(INPUT_PREFIX.length);
    values[name] = multi.has(name) && typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : value;
  }
  const hidden = data.hidden && typeof data.hidden === 'object' ? data.hidden : {};
  return { ...values, ...hidden };
}

/**
 * The form a submission came from, filled in with what the person entered, so a refusal can show
 * it again; undefined for a card too old to carry its layout.
 */
export function submittedForm(submitted: Record<string, unknown>): Form | undefined {
  const data = submitted as Partial<SubmitData>;
  if (typeof data.form !== 'string' || !Array.isArray(data.layout?.fields)) return undefined;
  const values = formValues(submitted);
  const fields = data.layout.fields.map((field) => {
    const value = values[field.name];
    if (value === undefined || value === '') return field;
    return { ...field, initial: Array.isArray(value) ? value.map(String) : String(value) };
  });
  return { ...data.layout, fields, command: data.form, ...(data.hidden ? { hidden: data.hidden } : {}) };
}
