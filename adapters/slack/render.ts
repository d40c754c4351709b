/**
 * The neutral reply model (src/core/reply.ts) in Block Kit: messages, modals for forms, the App
 * Home tab, and reading a submitted modal back into form values. Every rendering stays within
 * Block Kit's limits (limits.ts).
 */
import type { types as Slack } from '@slack/bolt';
import {
  type Block, type Button, type Field, type Form, type FormField, type ListItem, type Reply, type Tone, imageInWords, notificationText,
} from '../../src/core/reply.js';
import {
  FIELD_ACTION, FIELD_BLOCK_PREFIX, FORM_VIEW, HOME_VIEW, LOADING_VIEW, OPEN_FORM_ACTION, RESULT_VIEW, RUN_ACTION,
  actionId, fieldBlockId,
} from './ids.js';
import { LIMITS, chunk, cut, fitBlocks, splitText } from './limits.js';

type KnownBlock = Slack.KnownBlock;
type ButtonElement = Slack.Button;
type InputBlock = Slack.InputBlock;
type ModalView = Slack.ModalView;
type HomeView = Slack.HomeView;

const TONE_EMOJI: Record<Tone, string> = { info: '', success: '✅ ', warning: '⚠️ ', error: '❌ ' };

/** Slack's mrkdwn treats &, < and > as markup: escape them in text that comes from people or the register. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const plain = (text: string, max: number): Slack.PlainTextElement => ({ type: 'plain_text', text: cut(text || ' ', max), emoji: true });
const mrkdwn = (text: string): Slack.MrkdwnElement => ({ type: 'mrkdwn', text });

/** Sections for a piece of mrkdwn of any length (3000 characters per section). */
function sections(markdown: string): KnownBlock[] {
  return splitText(markdown, LIMITS.sectionText).map((piece) => ({ type: 'section', text: mrkdwn(piece || ' ') }));
}

/** The value a form-opening button carries: the form's command, its hidden values and what its fields start with (a proposal's values). */
export interface OpenFormValue { command: string; hidden?: Record<string, string>; initial?: Record<string, string | string[]> }

/** A form-opening button's value back; an older plain command line still opens its form. */
export function openFormValue(raw: string | undefined): OpenFormValue {
  try {
    const value = JSON.parse(raw ?? '') as OpenFormValue;
    if (typeof value?.command === 'string') return value;
  } catch {
    // not JSON: a command line
  }
  return { command: raw ?? '' };
}

function buttonElement(b: Button, index: number): ButtonElement | undefined {
  // A command cut short would run something else: leave such a button out rather than shorten it.
  if (b.command.length > LIMITS.buttonValue) return undefined;
  return { type: 'button', text: plain(b.label, LIMITS.buttonText), action_id: actionId(RUN_ACTION, index), value: b.command, ...(b.style ? { style: b.style } : {}) };
}

function actionsBlocks(buttons: Button[]): KnownBlock[] {
  const elements = buttons.map(buttonElement).filter((e): e is ButtonElement => e !== undefined);
  return chunk(elements, LIMITS.actionsElements).map((group) => ({ type: 'actions', elements: group.map((e, i) => ({ ...e, action_id: actionId(RUN_ACTION, i) })) }));
}

function fieldText(f: Field): string {
  return `*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`;
}

/** Short fields sit side by side (10 per section); a long one gets sections of its own rather than being cut. */
function fieldBlocks(list: Field[]): KnownBlock[] {
  const out: KnownBlock[] = [];
  let row: Slack.MrkdwnElement[] = [];
  const flush = () => {
    for (const group of chunk(row, LIMITS.sectionFields)) out.push({ type: 'section', fields: group });
    row = [];
  };
  for (const f of list) {
    const body = fieldText(f);
    if (body.length <= LIMITS.fieldText) {
      row.push(mrkdwn(body));
    } else {
      flush();
      out.push(...sections(body));
    }
  }
  flush();
  return out;
}

function listItemBlocks(item: ListItem): KnownBlock[] {
  const head = `*${escapeMrkdwn(item.title)}*${item.detail ? `\n${escapeMrkdwn(item.detail)}` : ''}`;
  const buttons = item.buttons ?? [];
  const out = sections(head);
  // One button reads best beside the item it acts on.
  const accessory = buttons.length === 1 && out.length === 1 ? buttonElement(buttons[0], 0) : undefined;
  if (accessory) (out[0] as Slack.SectionBlock).accessory = accessory;
  out.push(...fieldBlocks(item.fields ?? []));
  if (!accessory) out.push(...actionsBlocks(buttons));
  return out;
}

function blockToSlack(b: Block): KnownBlock[] {
  switch (b.type) {
    case 'text':
      return sections(TONE_EMOJI[b.tone ?? 'info'] + escapeMrkdwn(b.text));
    case 'fields':
      return [...(b.title ? sections(`*${escapeMrkdwn(b.title)}*`) : []), ...fieldBlocks(b.fields)];
    case 'list': {
      const out: KnownBlock[] = b.title ? sections(`*${escapeMrkdwn(b.title)}*`) : [];
      if (b.items.length === 0) out.push({ type: 'context', elements: [mrkdwn(`_${escapeMrkdwn(b.empty ?? 'Nothing here.')}_`)] });
      for (const item of b.items) out.push(...listItemBlocks(item));
      if (b.page && b.page.total > 1) {
        out.push({ type: 'context', elements: [mrkdwn(`Page ${b.page.number} of ${b.page.total}`)] });
        const nav: Button[] = [];
        if (b.page.previous) nav.push({ label: 'Previous', command: b.page.previous });
        if (b.page.next) nav.push({ label: 'Next', command: b.page.next });
        out.push(...actionsBlocks(nav));
      }
      return out;
    }
    case 'actions':
      return actionsBlocks(b.buttons);
    case 'form':
      return [...sections(`*${escapeMrkdwn(b.form.title)}*`), openFormActions(b.form)];
    case 'file':
      // The listeners send files before rendering (send-file.ts): this names one that came another way.
      return sections(`📎 ${escapeMrkdwn(`${b.file.title}: ${b.file.name}`)}`);
    case 'image':
      // Block Kit shows only images at a URL: the port and the listeners upload the PNG next to the message (send-file.ts).
      return [{ type: 'context', elements: [mrkdwn(escapeMrkdwn(imageInWords(b)))] }];
    case 'divider':
      return [{ type: 'divider' }];
  }
}

/** A form inside a message becomes a button that opens it as a modal. */
function openFormActions(form: Form): KnownBlock {
  const initial = Object.fromEntries(form.fields.filter((f) => f.initial !== undefined).map((f) => [f.name, f.initial!]));
  const value: OpenFormValue = { command: form.command, ...(form.hidden ? { hidden: form.hidden } : {}), ...(Object.keys(initial).length ? { initial } : {}) };
  const json = JSON.stringify(value);
  return {
    type: 'actions',
    elements: [{
      type: 'button', style: 'primary', text: plain(`Open: ${form.title}`, LIMITS.buttonText), action_id: actionId(OPEN_FORM_ACTION, 0),
      value: json.length <= LIMITS.buttonValue ? json : JSON.stringify({ command: form.command }),
    }],
  };
}

/** The command that shows more of a reply, if it has one (a list's next page). */
function nextCommand(reply: Reply): string | undefined {
  for (const b of reply.blocks) if (b.type === 'list' && b.page?.next) return b.page.next;
  return undefined;
}

/** Block Kit blocks for a reply, at most `max` of them; what does not fit is named, with "Show more" when possible. */
export function renderBlocks(reply: Reply, max: number = LIMITS.messageBlocks): KnownBlock[] {
  const blocks = reply.blocks.flatMap(blockToSlack);
  const next = nextCommand(reply);
  return fitBlocks(blocks, max, (hidden) => [
    { type: 'context', elements: [mrkdwn(`… ${hidden} more ${hidden === 1 ? 'part' : 'parts'} not shown here.${next ? '' : ' Narrow the command down to see the rest.'}`)] },
    ...(next ? actionsBlocks([{ label: 'Show more', command: next }]) : []),
  ]);
}

/**
 * Notification and screen-reader text for a message with blocks: sentences, no buttons or command
 * lines. Slack reads a message's text as mrkdwn too, so &, < and > are escaped: "R&D <beta>" would
 * otherwise lose its "<beta>" as markup in the notification.
 */
export function fallbackText(reply: Reply): string {
  return escapeMrkdwn(cut(notificationText(reply) || ' ', LIMITS.fallbackText));
}

export function renderMessage(reply: Reply): { blocks: KnownBlock[]; text: string } {
  return { blocks: renderBlocks(reply, LIMITS.messageBlocks), text: fallbackText(reply) };
}

/** What a form modal carries from opening to submission. */
export interface FormMeta {
  command: string;
  hidden?: Record<string, string>;
}

export function encodeMeta(meta: FormMeta): string {
  const json = JSON.stringify(meta);
  if (json.length > LIMITS.privateMetadata) throw new Error(`The form "${meta.command}" carries more hidden values than a Slack modal can hold.`);
  return json;
}

export function decodeMeta(raw: string | undefined): FormMeta | undefined {
  try {
    const meta = JSON.parse(raw ?? '') as FormMeta;
    return typeof meta?.command === 'string' ? meta : undefined;
  } catch {
    return undefined;
  }
}

function selectOption(o: { value: string; label: string }): Slack.PlainTextOption {
  return { text: plain(o.label, LIMITS.optionText), value: o.value };
}

function inputElement(field: FormField): Slack.InputBlockElement {
  const placeholder = field.placeholder ? { placeholder: plain(field.placeholder, LIMITS.placeholder) } : {};
  const initial = Array.isArray(field.initial) ? field.initial : field.initial !== undefined ? [field.initial] : [];
  const options = (field.options ?? []).filter((o) => o.value.length <= LIMITS.optionValue).slice(0, LIMITS.selectOptions);
  const text = (multiline: boolean): Slack.PlainTextInput => ({
    type: 'plain_text_input', action_id: FIELD_ACTION, multiline, ...placeholder,
    ...(initial[0] ? { initial_value: cut(initial.join(', '), LIMITS.inputInitialValue) } : {}),
  });
  switch (field.type) {
    case 'text':
      return text(false);
    case 'textarea':
      return text(true);
    case 'date':
      return { type: 'datepicker', action_id: FIELD_ACTION, ...placeholder, ...(/^\d{4}-\d{2}-\d{2}$/.test(initial[0] ?? '') ? { initial_date: initial[0] } : {}) };
    case 'number':
      return {
        type: 'number_input', action_id: FIELD_ACTION, is_decimal_allowed: !field.integer, ...placeholder,
        ...(field.min !== undefined ? { min_value: String(field.min) } : {}),
        ...(field.max !== undefined ? { max_value: String(field.max) } : {}),
        ...(initial[0] ? { initial_value: initial[0] } : {}),
      };
    case 'select': {
      if (options.length === 0) return text(false);
      const chosen = options.find((o) => o.value === initial[0]);
      return { type: 'static_select', action_id: FIELD_ACTION, ...placeholder, options: options.map(selectOption), ...(chosen ? { initial_option: selectOption(chosen) } : {}) };
    }
    case 'multiselect': {
      if (options.length === 0) return text(false);
      const chosen = options.filter((o) => initial.includes(o.value));
      return { type: 'multi_static_select', action_id: FIELD_ACTION, ...placeholder, options: options.map(selectOption), ...(chosen.length ? { initial_options: chosen.map(selectOption) } : {}) };
    }
    case 'file':
      return { type: 'file_input', action_id: FIELD_ACTION, max_files: 10 };
  }
}

function inputBlock(field: FormField): InputBlock {
  return {
    type: 'input',
    block_id: fieldBlockId(field.name),
    label: plain(field.label, LIMITS.inputLabel),
    optional: !field.required,
    element: inputElement(field),
    ...(field.hint ? { hint: plain(field.hint, LIMITS.inputHint) } : {}),
  };
}

/** A command's form as a modal; the command and hidden values travel in private_metadata. */
export function formModal(form: Form): ModalView {
  const titleFits = form.title.length <= LIMITS.viewTitle;
  const intro: KnownBlock[] = titleFits ? [] : sections(`*${escapeMrkdwn(form.title)}*`);
  const inputs = form.fields.slice(0, LIMITS.viewBlocks - intro.length).map(inputBlock);
  return {
    type: 'modal',
    callback_id: FORM_VIEW,
    title: plain(titleFits ? form.title : 'ISMS', LIMITS.viewTitle),
    submit: plain(form.submitLabel ?? 'Submit', LIMITS.viewButton),
    close: plain('Cancel', LIMITS.viewButton),
    private_metadata: encodeMeta({ command: form.command, ...(form.hidden ? { hidden: form.hidden } : {}) }),
    blocks: [...intro, ...inputs],
  };
}

/** Shown at once (a trigger_id lives 3 seconds) and replaced by the form when it is ready. */
export function loadingModal(): ModalView {
  return pendingModal('⏳ Preparing the form…');
}

/** A modal that says what is under way, replaced by the outcome when it is known. */
export function pendingModal(note: string): ModalView {
  return {
    type: 'modal',
    callback_id: LOADING_VIEW,
    title: plain('ISMS', LIMITS.viewTitle),
    close: plain('Close', LIMITS.viewButton),
    blocks: [{ type: 'section', text: mrkdwn(escapeMrkdwn(note)) }],
  };
}

/** A command's answer inside a modal (after a submission, or when no form came back). */
export function resultModal(reply: Reply, title = 'ISMS'): ModalView {
  return {
    type: 'modal',
    callback_id: RESULT_VIEW,
    title: plain(title, LIMITS.viewTitle),
    close: plain('Done', LIMITS.viewButton),
    blocks: renderBlocks(reply, LIMITS.viewBlocks),
  };
}

/** The App Home tab: a heading and the person's to-do. */
export function homeView(reply: Reply, heading: string): HomeView {
  return {
    type: 'home',
    callback_id: HOME_VIEW,
    blocks: [{ type: 'header', text: plain(heading, LIMITS.headerText) }, ...renderBlocks(reply, LIMITS.viewBlocks - 1)],
  };
}

/** A file someone attached in a modal's file input. */
export interface SubmittedFile { field: string; id: string; name: string }

type StateValues = Record<string, Record<string, { type: string; value?: string | null; selected_date?: string | null;
  selected_option?: { value: string } | null; selected_options?: { value: string }[]; files?: { id: string; name: string }[] }>>;

/** Reads a submitted form modal back into field values (names as in the Form) and attached files. */
export function readFormValues(state: StateValues): { values: Record<string, unknown>; files: SubmittedFile[] } {
  const values: Record<string, unknown> = {};
  const files: SubmittedFile[] = [];
  for (const [blockId, actions] of Object.entries(state)) {
    if (!blockId.startsWith(FIELD_BLOCK_PREFIX)) continue;
    const name = blockId.slice(FIELD_BLOCK_PREFIX.length);
    const v = actions[FIELD_ACTION];
    if (!v) continue;
    switch (v.type) {
      case 'datepicker':
        values[name] = v.selected_date ?? undefined;
        break;
      case 'static_select':
        values[name] = v.selected_option?.value;
        break;
      case 'multi_static_select':
        values[name] = (v.selected_options ?? []).map((o) => o.value);
        break;
      case 'file_input':
        for (const f of v.files ?? []) files.push({ field: name, id: f.id, name: f.name });
        // As in the terminal: the field holds the file's name, the bytes travel as attachments.
        values[name] = v.files?.[0]?.name;
        break;
      default:
        values[name] = v.value ?? undefined;
    }
  }
  return { values, files };
}
