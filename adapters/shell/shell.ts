import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { asc } from 'drizzle-orm';
import type { Core } from '../../src/app.js';
import { people } from '../../src/db/schema/index.js';
import { type Actor, type Person, toActor, findPerson, peopleWithRole, ROLE_LABELS } from '../../src/core/actor.js';
import type { Attachment } from '../../src/core/router.js';
import type { ChatPort } from '../../src/core/port.js';
import { deliverDue } from '../../src/core/delivery.js';
import { type Form, type FormField, type Reply, findForm, toPlainText } from '../../src/core/reply.js';

export interface ShellOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Poll for queued nudges this often while waiting for input (interactive use). */
  nudgePollMs?: number;
}

/**
 * The terminal chat: the same commands as Slack and Teams, typed as "/isms ..." lines.
 * Piped input runs line by line; a form's questions take the following lines as answers.
 */
export class Shell {
  private actor!: Actor;
  private readonly out: NodeJS.WritableStream;
  private readonly interactive: boolean;
  private lines!: AsyncIterator<string>;
  private rl!: readline.Interface;

  /** The terminal reaches exactly one person: whoever is acting right now. */
  readonly port: ChatPort = {
    platform: 'shell',
    canReach: (person: Person) => person.id === this.actor?.id,
    send: async (_person, message) => this.print(`\n📨 New message for you:\n${indent(toPlainText(message))}\n`),
  };

  constructor(private readonly core: Core, private readonly options: ShellOptions) {
    this.out = options.output;
    this.interactive = Boolean((options.input as NodeJS.ReadStream).isTTY);
  }

  async run(): Promise<void> {
    await this.actAsDefault();
    this.rl = readline.createInterface({ input: this.options.input, output: this.interactive ? this.out : undefined, terminal: this.interactive });
    this.lines = this.rl[Symbol.asyncIterator]();
    this.print(`ISMS bot — terminal chat. Acting as ${describe(this.actor)}.`);
    this.print('Type "/isms help" for commands, "/as <email or name>" to act as someone else, "/whoami", "/quit".');
    await this.deliver();
    const timer = this.interactive ? setInterval(() => void this.deliver(), this.options.nudgePollMs ?? 5000) : undefined;
    try {
      for (;;) {
        const line = await this.nextLine('> ');
        if (line === undefined) break;
        if (!(await this.handle(line))) break;
      }
    } finally {
      if (timer) clearInterval(timer);
      this.rl.close();
    }
  }

  private async actAsDefault(): Promise<void> {
    const [lead] = await peopleWithRole(this.core.database.db, 'isms_lead');
    const [anyone] = lead ? [lead] : await this.core.database.db.select().from(people).orderBy(asc(people.id)).limit(1);
    if (!anyone) throw new Error('The register has no people yet: import some with "npm run isms -- import <file.yaml>".');
    this.actor = toActor(anyone);
  }

  /** Handles one line; false means the user asked to quit. */
  async handle(raw: string): Promise<boolean> {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return true;
    if (!this.interactive) this.print(`> ${line}`);
    if (/^\/(quit|exit)$/i.test(line)) return false;
    if (/^\/whoami$/i.test(line)) {
      this.print(`You are ${describe(this.actor)}.`);
      return true;
    }
    const as = /^\/as(?:\s+(.*))?$/i.exec(line);
    if (as) {
      if (as[1]?.trim()) await this.switchTo(as[1]);
      else this.print('✖ Say who to act as: "/as <email or name>", e.g. "/as sam@example.com".');
      return true;
    }
    if (!/^\/isms\b/i.test(line)) {
      this.print('Commands start with "/isms" — try "/isms help".');
      return true;
    }
    try {
      const { text, attachments } = takeFiles(line);
      const answer = await this.core.router.handle(text, { actor: this.actor, channel: 'shell', attachments });
      await this.show(answer);
    } catch (e) {
      if (e instanceof AttachmentError) {
        this.print(`✖ ${e.message} Nothing was recorded.`);
        return true;
      }
      this.core.logger.error({ err: e }, 'command failed');
      this.print(`✖ Something went wrong on our side and nothing was recorded: ${(e as Error).message}`);
    }
    await this.deliver();
    return true;
  }

  private async show(answer: Reply): Promise<void> {
    const shown = toPlainText({ blocks: answer.blocks.filter((b) => b.type !== 'form') });
    if (shown) this.print(shown);
    const form = findForm(answer);
    if (form) await this.fillForm(form);
  }

  /** A form in the terminal: one question per field, answered on the following lines. */
  private async fillForm(form: Form): Promise<void> {
    this.print(`${form.title} — answer each question; leave optional ones empty; "/cancel" stops.`);
    const values: Record<string, unknown> = { ...form.hidden };
    const attachments: Attachment[] = [];
    for (const field of form.fields) {
      const answer = await this.nextLine(`${question(field)} `);
      if (answer === undefined) {
        this.print('✖ Input ended before the form was complete; nothing was recorded.');
        return;
      }
      if (!this.interactive) this.print(`${question(field)} ${answer}`);
      const value = answer.trim();
      if (/^\/cancel$/i.test(value)) {
        this.print('Cancelled; nothing was recorded.');
        return;
      }
      if (!value) continue;
      if (field.type === 'file') {
        try {
          const file = readAttachment(value.replace(/^"(.*)"$/, '$1'));
          attachments.push(file);
          values[field.name] = file.name;
        } catch (e) {
          if (!(e instanceof AttachmentError)) throw e;
          this.print(`✖ ${e.message} Nothing was recorded.`);
          return;
        }
        continue;
      }
      values[field.name] = field.type === 'multiselect' ? value.split(',').map((v) => optionValue(field, v.trim())) : field.type === 'select' ? optionValue(field, value) : value;
    }
    const answer = await this.core.router.submit(form.command, values, { actor: this.actor, channel: 'shell', attachments });
    await this.show(answer);
  }

  private async switchTo(query: string): Promise<void> {
    const found = await findPerson(this.core.database.db, query);
    if (found.length === 0) {
      this.print(`✖ Nobody in the register matches "${query}". Use an email address or a name.`);
    } else if (found.length > 1) {
      this.print(`✖ "${query}" matches ${found.length} people: ${found.map((p) => `${p.name} <${p.email}>`).join(', ')}. Use an email address.`);
    } else {
      this.actor = toActor(found[0]);
      this.print(`Now acting as ${describe(this.actor)}.`);
      await this.deliver();
    }
  }

  private async deliver(): Promise<void> {
    try {
      await deliverDue(this.core.database.db, [this.port]);
    } catch (e) {
      this.core.logger.warn({ err: e }, 'could not deliver queued messages');
    }
  }

  private async nextLine(prompt: string): Promise<string | undefined> {
    if (this.interactive) {
      this.rl.setPrompt(prompt);
      this.rl.prompt();
    }
    const next = await this.lines.next();
    return next.done ? undefined : next.value;
  }

  private print(message: string): void {
    this.out.write(`${message}\n`);
  }
}

/** A file the person named that cannot be attached: their mistake, not ours. */
class AttachmentError extends Error {}

const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;

function readAttachment(file: string): Attachment {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new AttachmentError(`Cannot find the file "${file}": check the path.`);
  }
  if (!stat.isFile()) throw new AttachmentError(`"${file}" is not a file: give the path of a file.`);
  if (stat.size > MAX_ATTACHMENT_BYTES) throw new AttachmentError(`The file "${file}" is larger than 100 MB.`);
  try {
    return { name: path.basename(file), bytes: readFileSync(file) };
  } catch {
    throw new AttachmentError(`Cannot read the file "${file}": check that you may read it.`);
  }
}

/** "--file <path>" (or --file "<path with spaces>") attaches a file from disk, as a chat upload would. */
function takeFiles(line: string): { text: string; attachments: Attachment[] } {
  const attachments: Attachment[] = [];
  const text = line.replace(/--file\s+(?:"([^"]+)"|(\S+))/g, (_m, quoted?: string, bare?: string) => {
    attachments.push(readAttachment(quoted ?? bare ?? ''));
    return '';
  });
  if (/(^|\s)--file(\s|$)/.test(text)) throw new AttachmentError('"--file" needs the path of a file after it, e.g. --file ./access-review.pdf.');
  return { text: text.trim(), attachments };
}

function describe(actor: Actor): string {
  return `${actor.name} <${actor.email}> (${actor.roles.map((r) => ROLE_LABELS[r]).join(', ') || 'no role'})`;
}

function question(field: FormField): string {
  const options = field.options?.length ? ` [${field.options.map((o) => o.value).join(field.type === 'multiselect' ? ', ' : ' | ')}]` : '';
  return `${field.label}${field.required ? '' : ' (optional)'}${options}:`;
}

function optionValue(field: FormField, typed: string): string {
  const match = field.options?.find((o) => o.value.toLowerCase() === typed.toLowerCase() || o.label.toLowerCase() === typed.toLowerCase());
  return match?.value ?? typed;
}

function indent(s: string): string {
  return s.split('\n').map((l) => `  ${l}`).join('\n');
}
