/**
 * The neutral reply model. The core answers in these blocks; each adapter renders them in its own
 * idiom (Block Kit, Adaptive Cards, terminal text). A button carries the command line it runs, so a
 * click goes through the same router, validation and role checks as typed text.
 */
export type Tone = 'info' | 'success' | 'warning' | 'error';

export interface Button {
  label: string;
  /** The command line a click runs as the clicking person, e.g. "ack POL-0001". */
  command: string;
  style?: 'primary' | 'danger';
}

export type FormFieldType = 'text' | 'textarea' | 'date' | 'number' | 'select' | 'multiselect' | 'file';

export interface FormField {
  name: string;
  label: string;
  type: FormFieldType;
  required?: boolean;
  options?: { value: string; label: string }[];
  placeholder?: string;
  initial?: string | string[];
  hint?: string;
  /** A number field that takes whole numbers only: the input must not allow decimals. */
  integer?: boolean;
  /** Bounds of a number field, inclusive. */
  min?: number;
  max?: number;
}

export interface Form {
  title: string;
  /** Command path the submitted values go to, e.g. "declare ai". */
  command: string;
  fields: FormField[];
  submitLabel?: string;
  /** Values carried through the form unchanged, e.g. the item the form is about. */
  hidden?: Record<string, string>;
}

export interface ListItem {
  title: string;
  detail?: string;
  fields?: Field[];
  buttons?: Button[];
}

export interface Field { label: string; value: string }

export interface Page { number: number; total: number; next?: string; previous?: string }

/**
 * A file the reply hands to the person (an export): written by the core to a temporary path; each
 * platform delivers it its own way (the terminal copies it into its export folder).
 */
export interface FileOut {
  /** The file name the person gets, e.g. "risks-2026-12-02.xlsx". */
  name: string;
  mimeType: string;
  /** Where the core wrote it. */
  path: string;
  /** What it is, in words: "Risk register (CSV, 12 rows)". */
  title: string;
}

export type Block =
  | { type: 'text'; text: string; tone?: Tone }
  | { type: 'fields'; title?: string; fields: Field[] }
  | { type: 'list'; title?: string; items: ListItem[]; empty?: string; page?: Page }
  | { type: 'actions'; buttons: Button[] }
  | { type: 'form'; form: Form }
  | { type: 'file'; file: FileOut }
  | ImageBlock
  | { type: 'divider' };

/**
 * A picture shown in the message itself (a chart), its bytes carried inline so it survives the
 * outbox, which stores replies as JSON. Small by design: imageBlock refuses anything larger than
 * MAX_IMAGE_BYTES; a bigger file travels as a file.
 */
export interface ImageBlock { type: 'image'; title: string; alt: string; pngBase64: string; fileName: string }

/** Largest image a message carries inline; charts are 20-60 KB. */
export const MAX_IMAGE_BYTES = 1024 * 1024;

/**
 * What an answer means, set by the router and the inbound pipeline, never guessed from tone:
 * recorded (the register changed, with its audit events), refused (nothing written: wrong role,
 * bad input, not found, conflict), form (the command asks for its fields), info (a read, or a
 * reply that changed nothing), fault (our side failed; nothing was recorded).
 */
export type Outcome = 'recorded' | 'refused' | 'form' | 'info' | 'fault';

export interface Reply {
  blocks: Block[];
  outcome?: Outcome;
  /**
   * private (the default): only the person who asked sees it (Slack ephemeral, Teams personal chat);
   * public: the conversation sees it, only when the command says so.
   */
  visibility?: 'private' | 'public';
  /** A refusal's reasons by form field name, so a form shows each under its field. */
  fieldErrors?: Record<string, string>;
  /** The register item the message is about (e.g. "EVR-0003"): a reply in its thread is about it too. */
  about?: string;
  /**
   * What the evidence this answer recorded is for (an evidence request, else its control): a chat where the
   * message that sent it can be edited remembers that message, so an edit of it is answered.
   */
  evidenceFor?: string;
}

export const reply = (...blocks: Block[]): Reply => ({ blocks });
export const text = (body: string, tone?: Tone): Block => ({ type: 'text', text: body, tone });
export const fields = (list: Field[], title?: string): Block => ({ type: 'fields', title, fields: list });
export const actions = (...buttons: Button[]): Block => ({ type: 'actions', buttons });
export const formBlock = (form: Form): Block => ({ type: 'form', form });
export const fileBlock = (file: FileOut): Block => ({ type: 'file', file });

/**
 * A PNG shown in the message. Larger than MAX_IMAGE_BYTES it becomes a sentence saying so, so a
 * message never grows past what a chat platform or the outbox should carry.
 */
export function imageBlock(image: { title: string; alt: string; fileName: string; png: Buffer }): Block {
  if (image.png.length > MAX_IMAGE_BYTES) {
    return text(`${image.title}: the picture is too large to show here (${Math.ceil(image.png.length / 1024)} KB, at most ${MAX_IMAGE_BYTES / 1024} KB); ${image.alt}`, 'warning');
  }
  return { type: 'image', title: image.title, alt: image.alt, fileName: image.fileName, pngBase64: image.png.toString('base64') };
}

/** What an image says in words, where it cannot be shown. */
export const imageInWords = (b: ImageBlock): string => `🖼 ${b.title}${b.alt && b.alt !== b.title ? ` — ${b.alt}` : ''}`;

export function replyText(body: string, tone?: Tone): Reply {
  return reply(text(body, tone));
}

/** The form in a reply, if it asks for one. */
export function findForm(r: Reply): Form | undefined {
  for (const b of r.blocks) if (b.type === 'form') return b.form;
  return undefined;
}

const TONE_PREFIX: Record<Tone, string> = { info: '', success: '✔ ', warning: '⚠ ', error: '✖ ' };

/** Plain text rendering: the terminal uses it, and chat platforms use it as notification fallback text. */
export function toPlainText(r: Reply): string {
  const out: string[] = [];
  for (const b of r.blocks) {
    switch (b.type) {
      case 'text':
        out.push(TONE_PREFIX[b.tone ?? 'info'] + b.text);
        break;
      case 'fields':
        if (b.title) out.push(b.title);
        for (const f of b.fields) out.push(`  ${f.label}: ${f.value}`);
        break;
      case 'list':
        if (b.title) out.push(b.title);
        if (b.items.length === 0) out.push(`  ${b.empty ?? '(none)'}`);
        for (const item of b.items) {
          out.push(`  • ${item.title}${item.detail ? ` — ${item.detail}` : ''}`);
          for (const f of item.fields ?? []) out.push(`      ${f.label}: ${f.value}`);
          for (const btn of item.buttons ?? []) out.push(`      [${btn.label}] /isms ${btn.command}`);
        }
        if (b.page && b.page.total > 1) {
          out.push(`  page ${b.page.number} of ${b.page.total}${b.page.next ? ` — next: /isms ${b.page.next}` : ''}`);
        }
        break;
      case 'actions':
        for (const btn of b.buttons) out.push(`  [${btn.label}] /isms ${btn.command}`);
        break;
      case 'form':
        out.push(`${b.form.title}:`);
        for (const f of b.form.fields) out.push(`  ${f.label}${f.required ? '' : ' (optional)'}`);
        break;
      case 'file':
        out.push(`📎 ${b.file.title}: ${b.file.name}`);
        break;
      case 'image':
        out.push(imageInWords(b));
        break;
      case 'divider':
        out.push('—');
        break;
    }
  }
  return out.join('\n');
}

/** Longest notification text: a push notification or a screen reader's summary, not the whole message. */
const NOTIFICATION_MAX = 300;

/**
 * What a notification or a screen reader says for a message: its sentences and list titles, without
 * buttons, command lines or form fields (those stay in the message itself), cut to a sane length.
 */
export function notificationText(r: Reply, max = NOTIFICATION_MAX): string {
  const out: string[] = [];
  for (const b of r.blocks) {
    if (b.type === 'text') out.push(b.text);
    else if (b.type === 'list') {
      if (b.title) out.push(b.title);
      for (const item of b.items) out.push(`• ${item.title}`);
    } else if (b.type === 'fields' && b.title) out.push(b.title);
    else if (b.type === 'form') out.push(b.form.title);
    else if (b.type === 'file') out.push(b.file.title);
    else if (b.type === 'image') out.push(b.title);
  }
  // A reply of fields alone (a record's details) says them rather than nothing.
  if (out.length === 0) for (const b of r.blocks) if (b.type === 'fields') out.push(...b.fields.map((f) => `${f.label}: ${f.value}`));
  const whole = out.join('\n').trim();
  if (whole.length <= max) return whole;
  // Never split a surrogate pair: a broken emoji would show as a replacement character.
  const end = /[\uD800-\uDBFF]/.test(whole.charAt(max - 2)) ? max - 2 : max - 1;
  return `${whole.slice(0, end)}…`;
}
