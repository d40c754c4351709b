import { accessSync, constants, statSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { distance } from 'fastest-levenshtein';
import { asc, sql } from 'drizzle-orm';
import type { Core } from '../../src/app.js';
import { people, type Role } from '../../src/db/schema/index.js';
import { type Person, findPerson, peopleWithRole, personMeant, ROLE_LABELS, toActor } from '../../src/core/actor.js';
import { invalid, notFound } from '../../src/core/errors.js';
import type { Request } from '../../src/core/inbound.js';
import type { Attachment } from '../../src/core/router.js';
import { MAX_EVIDENCE_FILE_BYTES, attachmentFromPath, fileTooLarge } from '../../src/core/attachments.js';
import type { ChatPort } from '../../src/core/port.js';
import { deliverDue } from '../../src/core/delivery.js';
import { type FileOut, type Form, type ImageBlock, type FormField, findForm, toPlainText } from '../../src/core/reply.js';
import { exportDirectory } from '../../src/domain/exports/files.js';

export interface ShellOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Poll for queued nudges this often while waiting for input (interactive use). */
  nudgePollMs?: number;
}

/**
 * The terminal chat: the same commands as Slack and Teams, typed as "/isms ..." lines, run through
 * the core's inbound pipeline as the person acting. Piped input runs line by line; a form's
 * questions take the following lines as answers.
 */
export class Shell {
  private person!: Person;
  private readonly out: NodeJS.WritableStream;
  private readonly interactive: boolean;
  private lines!: AsyncIterator<string>;
  private rl!: readline.Interface;

  /** The terminal reaches exactly one person: whoever is acting right now. */
  readonly port: ChatPort = {
    platform: 'shell',
    canReach: (person: Person) => person.id === this.person?.id,
    send: async (_person, message) => {
      this.print(`\n📨 New message for you:\n${indent(toPlainText(message))}\n`);
      for (const b of message.blocks) if (b.type === 'image') await this.saveImage(b);
    },
  };

  constructor(private readonly core: Core, private readonly options: ShellOptions) {
    this.out = options.output;
    this.interactive = Boolean((options.input as NodeJS.ReadStream).isTTY);
  }

  async run(): Promise<void> {
    await this.actAsDefault();
    this.rl = readline.createInterface({ input: this.options.input, output: this.interactive ? this.out : undefined, terminal: this.interactive });
    this.lines = this.rl[Symbol.asyncIterator]();
    this.print(`ISMS bot — terminal chat. Acting as ${describe(this.person)}.`);
    this.print('Type "/isms help" for commands (here "/isms" may be left out: "status"), "/as <email or name>" to act as someone else, "/whoami", "/quit".');
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
    if (!anyone) throw notFound('The register has no people yet: import some with "npm run isms -- import <file.yaml>", then start again.');
    this.person = anyone;
  }

  /** Handles one line; false means the user asked to quit. */
  async handle(raw: string): Promise<boolean> {
    const asTyped = raw.trim();
    if (!asTyped || asTyped.startsWith('#')) return true;
    if (!this.interactive) this.print(`> ${asTyped}`);
    const pasted = pastedCommand(asTyped);
    // The terminal's own commands typed after "/isms" ("/isms whoami") run as meant, saying how they are typed.
    const own = /^\/isms\s+\/?(whoami|as|quit|exit|cancel)(\s.*)?$/i.exec(pasted);
    if (own) this.print(`("/${own[1].toLowerCase()}" is the terminal's own command: it is typed without "/isms".)`);
    // Bare "quit" or "exit" leaves, as in any shell; "whoami" and "cancel" are the terminal's own too.
    const bare = /^(whoami|quit|exit|cancel)$/i.exec(pasted);
    let line = own ? `/${own[1]}${own[2] ?? ''}` : bare ? `/${bare[1]}` : pasted;
    if (/^\/(quit|exit)$/i.test(line)) return false;
    if (/^\/whoami$/i.test(line)) {
      this.print(`You are ${describe(this.person)}.`);
      return true;
    }
    const as = /^\/as(?:\s+(.*))?$/i.exec(line);
    if (as) {
      if (as[1]?.trim()) await this.switchTo(as[1]);
      else this.print(`✖ Say who to act as: "/as <email or name>".\n${await this.whoIsThere()}`);
      return true;
    }
    if (/^\/cancel$/i.test(line)) {
      this.print('There is no form to cancel.');
      return true;
    }
    // The terminal's own commands are no "/isms" commands: the core's help would offer one that looks alike ("as" → "ack").
    if (/^\/isms\s+help\s+\/?(as|whoami|cancel|quit|exit)$/i.test(line)) {
      this.print(TERMINAL_HELP);
      return true;
    }
    if (!/^\/isms\b/i.test(line)) {
      if (line.startsWith('/')) {
        this.print('Commands start with "/isms" — try "/isms help".');
        return true;
      }
      // As in Teams, a line naming a command runs without its "/isms" ("status"); plain language may become a
      // proposed command, and the core says how commands are typed otherwise.
      if (this.core.inbound.plainLanguage(line, toActor(this.person))) return this.ask({ message: line }, []);
      line = `/isms ${line}`;
    }
    const typed = takeFiles(line);
    if ('problem' in typed) {
      this.print(`✖ ${typed.problem} Nothing was recorded.`);
      return true;
    }
    return this.ask({ line: typed.text }, typed.files);
  }

  /** Runs a request through the core as the acting person and shows the answer; false means quit. */
  private async ask(request: Request, files: string[], sent?: Filled): Promise<boolean> {
    const { reply: answer } = await this.core.inbound.handle({
      from: { person: this.person },
      channel: 'shell',
      request,
      attachments: async () => files.map(readAttachment),
      progress: async (message) => this.print(`⏳ ${message}`),
    });
    // A form refused for what some answers say is asked again, as Slack and Teams keep it open: those questions only, the other answers kept.
    const wrong = sent && answer.outcome === 'refused' ? sent.form.fields.filter((f) => answer.fieldErrors?.[f.name] !== undefined) : [];
    let shown = toPlainText({ blocks: answer.blocks.filter((b) => (wrong.length ? b.type === 'text' : b.type !== 'form' && b.type !== 'file' && b.type !== 'image')) });
    // Files are saved first, so that the answer already names them as saved: where it said what it made, the saved line only says
    // where; where it names the file (as in a command to run on it), it names the path it was saved to.
    const saved: string[] = [];
    if (!wrong.length) {
      for (const b of answer.blocks) {
        if (b.type !== 'file') continue;
        const { line, target } = await this.save(b.file, shown.includes(b.file.title));
        saved.push(line);
        if (target) shown = shown.replaceAll(new RegExp(`(?<=^|[\\s"'])${escapeRegExp(b.file.name)}(?=$|[\\s"'])`, 'gm'), () => target);
      }
    }
    if (shown) this.print(shown);
    if (sent && wrong.length) {
      this.print(`Answer again: ${wrong.map((f) => f.label.replace(/[?:]$/, '')).join(', ')} (the other answers are kept; "/cancel" stops).`);
      return this.fillForm(sent.form, { ...sent, wrong: wrong.map((f) => f.name) });
    }
    for (const line of saved) this.print(line);
    for (const b of answer.blocks) if (b.type === 'image') await this.saveImage(b);
    const form = findForm(answer);
    const goOn = form ? await this.fillForm(form) : true;
    await this.deliver();
    return goOn;
  }

  /**
   * A form in the terminal: one question per field, answered on the following lines. A command typed
   * instead of an answer (any line starting with "/", except a path where a file is asked for) leaves
   * the form, recording nothing, and then runs: it must never become a field's value. False means quit.
   * Asked again after a refusal, only the questions whose answers were wrong are asked.
   */
  private async fillForm(form: Form, again?: Filled & { wrong: string[] }): Promise<boolean> {
    if (!again) this.print(`${form.title} — answer each question; leave optional ones empty; "/cancel" stops.`);
    const values: Record<string, unknown> = { ...form.hidden, ...again?.values };
    const files: string[] = [...(again?.files ?? [])];
    const fields = again ? form.fields.filter((f) => again.wrong.includes(f.name)) : form.fields;
    for (const field of fields) {
      delete values[field.name];
      if (field.type === 'file') files.length = 0;
    }
    let retry = false;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      const asked = question(field);
      // A menu's list is shown once: asked again after a wrong answer, the list is just above.
      if (asked.choices && !retry) this.print(asked.choices);
      retry = false;
      const answer = await this.nextLine(`${asked.prompt} `);
      if (answer === undefined) {
        this.print('✖ Input ended before the form was complete; nothing was recorded.');
        return true;
      }
      const value = answer.trim();
      const command = pastedCommand(value);
      if (/^\/cancel$/i.test(command)) {
        if (!this.interactive) this.print(`${asked.prompt} ${value}`);
        this.print('Cancelled; nothing was recorded.');
        return true;
      }
      if (isCommand(command, field)) {
        this.print(`The form for ${form.command} was left; nothing was recorded.`);
        return this.handle(value);
      }
      if (!this.interactive) this.print(`${asked.prompt} ${answer}`);
      const menu = isMenu(field);
      if (menu && value === '?') {
        // The list was shown once, perhaps far above: "?" asks again with it (a short menu's is on the question line).
        i--;
        continue;
      }
      const picked = menu && value && value !== '-' ? pick(field, value) : undefined;
      if (picked && 'unknown' in picked) {
        // As a menu in Slack or Teams would, the question takes only its choices: asked again, not refused after the last one.
        this.print(notAChoiceMessage(field, picked.unknown, Boolean(asked.choices)));
        i--;
        retry = true;
        continue;
      }
      // An empty answer keeps what the form proposed; "-" clears it.
      if (value === '-' || (!value && field.initial === undefined)) continue;
      if (!value) {
        values[field.name] = field.initial;
        continue;
      }
      if (field.type === 'file') {
        const file = typedPath(value);
        files.push(file);
        values[field.name] = path.basename(file);
        continue;
      }
      values[field.name] = picked ? (field.type === 'multiselect' ? picked.values : picked.values[0]) : value;
    }
    return this.ask({ command: form.command, values }, files, { form, values, files });
  }

  /**
   * A file the reply carries goes into the export folder (ISMS_EXPORT_DIR, default ./exports); returns the line telling where
   * (without the title when the answer already said it). A file of that name already there is kept (writeBeside).
   */
  private async save(file: FileOut, titleSaid: boolean): Promise<{ line: string; target?: string }> {
    const dir = exportDirectory();
    try {
      const { target, kept } = await writeBeside(dir, file.name, (to) => copyFile(file.path, to, constants.COPYFILE_EXCL));
      return { line: `📎 Saved ${titleSaid ? '' : `${file.title} `}to ${target}${keptNote(kept)}`, target };
    } catch {
      return { line: `✖ Could not write ${file.name} into ${dir}: check that the folder can be written (ISMS_EXPORT_DIR names another).` };
    } finally {
      await rm(path.dirname(file.path), { recursive: true, force: true });
    }
  }

  /**
   * A terminal cannot show a picture: it goes into the export folder like a file, and the person is told where.
   * A file of that name already there (the pack's files, an earlier message's pictures) is kept, as with files.
   */
  private async saveImage(image: ImageBlock): Promise<void> {
    const dir = exportDirectory();
    try {
      const { target, kept } = await writeBeside(dir, path.basename(image.fileName), (to) => writeFile(to, Buffer.from(image.pngBase64, 'base64'), { flag: 'wx' }));
      this.print(`🖼 Saved ${image.title} to ${target}${keptNote(kept)}`);
    } catch {
      this.print(`✖ Could not write ${image.fileName} into ${dir}: check that the folder can be written (ISMS_EXPORT_DIR names another).`);
    }
  }

  private async switchTo(typed: string): Promise<void> {
    // "/as "Sam Novak"": quotes, straight, curly or German, are no part of a name.
    const query = typed.trim().replace(/^["'“„‘‚«»]+|["'”“’‘«»]+$/g, '').trim();
    let found = await findPerson(this.core.database.db, query);
    const role = found.length ? undefined : roleNamed(query);
    if (role) {
      // "/as auditor": someone trying the bot knows the roles, not yet the people who hold them.
      found = await peopleWithRole(this.core.database.db, role);
      if (found.length === 0) return this.print(`✖ Nobody in the register is ${ROLE_LABELS[role]}.\n${await this.whoIsThere()}`);
    }
    if (found.length === 0) {
      const meant = await this.meant(query);
      const hint = meant ? ` Did you mean ${meant.name} ("/as ${meant.email}")?` : ' Use an email address or a name.';
      this.print(`✖ Nobody in the register matches "${query}".${hint}\n${await this.whoIsThere()}`);
    } else if (found.length > 1) {
      this.print(`✖ "${query}" matches ${found.length} people: ${found.map((p) => `${p.name} <${p.email}>`).join(', ')}. Use an email address.`);
    } else {
      this.person = found[0];
      this.print(`Now acting as ${describe(this.person)}.`);
      await this.deliver();
    }
  }

  /**
   * The person a slip of the keyboard most likely meant ("Iris Lindquist", "iris@northwind"), or undefined:
   * the one email that starts so, else the nearest of the names and emails most alike (personMeant), never
   * everyone in the register.
   */
  private async meant(query: string): Promise<Person | undefined> {
    const db = this.core.database.db;
    if (query.includes('@')) {
      const byEmail = await db.select().from(people).where(sql`starts_with(lower(${people.email}), lower(${query}))`).orderBy(asc(people.id)).limit(2);
      if (byEmail.length === 1) return byEmail[0];
    }
    return personMeant(db, query, [people.name, people.email]);
  }

  /** A few people of the register with their roles, for someone who does not know who is in it. */
  private async whoIsThere(): Promise<string> {
    const shown = 12;
    const some = await this.core.database.db.select().from(people).orderBy(asc(people.id)).limit(shown + 1);
    const more = some.length > shown ? '\n  … and more: "/as <part of a name>" finds them.' : '';
    return `People in the register (a role works too, e.g. "/as auditor"):\n${some.slice(0, shown).map((p) => `  ${describe(p)}`).join('\n')}${more}`;
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
      this.rl.setPrompt(sanitize(prompt));
      this.rl.prompt();
    }
    const next = await this.lines.next();
    return next.done ? undefined : next.value;
  }

  /** Everything the terminal shows passes here: text from the register must not drive the terminal. */
  private print(message: string): void {
    this.out.write(`${sanitize(message)}\n`);
  }
}

/**
 * A command copied with what the terminal shows around it, as a newcomer copies it: the "> " of an
 * echoed line, a button's "[Attest] ", a bullet, the backticks of a chat message, or a slash typed
 * before a pasted command that has its own ("//isms status"). Anything else as typed.
 */
function pastedCommand(line: string): string {
  const m = /^(?:>\s*|[•*-]\s+|\[[^\]\n]*\]\s*)*`*\/*(\/[^`]*?)`*$/.exec(line);
  return m && m[1] !== line && /^\/(isms|as|whoami|quit|exit|cancel)(\s|$)/i.test(m[1]) ? m[1].trim() : line;
}

/** What the terminal's own commands do. */
const TERMINAL_HELP = [
  'The terminal chat\'s own commands (not "/isms" commands):',
  '  /as <email, name or role>: act as someone else in the register, e.g. "/as auditor"; "/as" alone lists people',
  '  /whoami: who you are acting as',
  '  /cancel: stop a form; nothing is recorded',
  '  /quit: leave the terminal chat (so does the end of piped input)',
].join('\n');

/** A form as it was filled in and sent. */
interface Filled { form: Form; values: Record<string, unknown>; files: string[] }

/** A line typed where a form expects an answer that is meant as a command, not as the answer. */
function isCommand(value: string, field: FormField): boolean {
  if (!value.startsWith('/')) return false;
  // Where a file is asked for, "/home/me/report.pdf" is an answer; the terminal's own commands are not.
  return field.type !== 'file' || /^\/(isms|as|whoami|quit|exit)(\s|$)/i.test(value);
}

/**
 * Writes a file into `dir` (made if missing) as `fileName`; a file of that name already there is kept, and
 * the new one gets "-2", "-3"... `write` must refuse a target that exists (EEXIST): copyFile with
 * COPYFILE_EXCL, writeFile with the flag "wx". Returns where it went, and the earlier file it kept.
 */
async function writeBeside(dir: string, fileName: string, write: (target: string) => Promise<void>): Promise<{ target: string; kept?: string }> {
  const { name, ext } = path.parse(fileName);
  await mkdir(dir, { recursive: true });
  for (let n = 1; ; n++) {
    const target = path.join(dir, n === 1 ? fileName : `${name}-${n}${ext}`);
    try {
      await write(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    return n === 1 ? { target } : { target, kept: path.join(dir, fileName) };
  }
}

/** What the person is told of an earlier file of the same name that was kept. */
const keptNote = (kept: string | undefined): string => (kept ? ` (${kept} from before is kept)` : '');

// eslint-disable-next-line no-control-regex -- removing control sequences is the point
const ESCAPE_SEQUENCE = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B\n]*(?:\u0007|\u001B\\)?|[P^_X][^\u001B\n]*(?:\u001B\\)?|[ -/]*[0-~])?/g;
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * Text as the terminal may show it: escape sequences (colours, cursor moves, window titles, OSC 8
 * links) and other control characters removed, tabs and line breaks kept. A name in the register,
 * written by anyone on any platform, must not be able to drive the terminal of whoever reads it.
 */
export function sanitize(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}

/**
 * A path as a terminal hands it over: in quotes (a file dragged into GNOME's terminal arrives as
 * '/home/me/Q3 review.pdf'), with its spaces escaped (macOS: /Users/me/Q3\\ review.pdf), or under the home
 * folder (~/Downloads/review.pdf): the shell that would have read them so is not in between.
 */
function typedPath(typed: string): string {
  const unquoted = /^(["'])(.*)\1$/s.exec(typed.trim())?.[2] ?? typed.trim().replace(/\\([\s'"()&;])/g, '$1');
  return /^~(?=\/|$)/.test(unquoted) ? path.join(homedir(), unquoted.slice(1)) : unquoted;
}

/**
 * A file from disk, as a chat upload would bring it: its size from stat (an oversized file is refused
 * before a byte is read), its bytes streamed by the command. A path that cannot be read is the person's mistake.
 */
function readAttachment(typed: string): Attachment {
  const file = typedPath(typed);
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw invalid(`Cannot find the file "${file}": check the path. Nothing was recorded.`);
  }
  if (!stat.isFile()) throw invalid(`"${file}" is not a file: give the path of a file. Nothing was recorded.`);
  if (stat.size > MAX_EVIDENCE_FILE_BYTES) throw fileTooLarge(file);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw invalid(`Cannot read the file "${file}": check that you may read it. Nothing was recorded.`);
  }
  return attachmentFromPath(path.basename(file), file, stat.size);
}

/** "--file <path>" (or --file "<path with spaces>") names a file to attach; the files are read once the person is known. */
function takeFiles(line: string): { text: string; files: string[] } | { problem: string } {
  const files: string[] = [];
  const text = line.replace(/--file\s+("[^"]+"|'[^']+'|(?:\\\s|\S)+)/g, (_m, file: string) => {
    files.push(file);
    return '';
  });
  if (/(^|\s)--file(\s|$)/.test(text)) return { problem: '"--file" needs the path of a file after it, e.g. --file ./access-review.pdf.' };
  return { text: text.trim(), files };
}

/** The role a word names ("auditor", "ISMS lead", "management_body"), or undefined. */
function roleNamed(query: string): Role | undefined {
  const q = query.trim().toLowerCase().replace(/_/g, ' ').replace(/s$/, '');
  return (Object.keys(ROLE_LABELS) as Role[]).find((r) => ROLE_LABELS[r].toLowerCase() === q || ROLE_LABELS[r].toLowerCase().replace(/s$/, '') === q);
}

function describe(person: Person): string {
  return `${person.name} <${person.email}> (${person.roles.map((r) => ROLE_LABELS[r]).join(', ') || 'no role'})`;
}

/**
 * A form question as the terminal asks it. A menu whose labels are its values fits on the question
 * line; one whose labels say more ("T-IS-004 Control degradation and operational drift") lists its
 * choices one per line under the question, since a value alone does not tell the person what it means,
 * and the answer is then typed after the field's name.
 */
function question(field: FormField): { prompt: string; choices?: string } {
  const options = field.options ?? [];
  const multiple = field.type === 'multiselect';
  // A value with a comma in it would read as two in a list separated by commas: such a menu is listed one per line.
  const described = options.some((o) => o.label.toLowerCase() !== o.value.toLowerCase() || (multiple && o.value.includes(',')));
  const proposed = field.initial === undefined ? '' : ` (Enter keeps "${[field.initial].flat().join(',')}", "-" clears it)`;
  // A date is typed as the core reads it; the terminal has no date picker to say so.
  const format = field.type === 'date' && !field.label.includes('YYYY') ? ' (YYYY-MM-DD)' : '';
  const asked = `${field.label}${format}${field.required ? '' : ' (optional)'}`;
  if (!described) {
    const compact = options.length ? ` [${options.map((o) => o.value).join(multiple ? ', ' : ' | ')}]` : '';
    const line = `${asked}${compact}${proposed}`;
    return { prompt: `${line}${/[?:]$/.test(line) ? '' : ':'}` };
  }
  const commas = multiple && options.some((o) => o.label.includes(','));
  const how = multiple ? `type one or more of the values below, separated by commas (or their names${commas ? '; a name with commas in it counts as one' : ''})` : 'type one of the values below (or its name)';
  const width = Math.max(...options.filter((o) => !labelStartsWithValue(o)).map((o) => o.value.length), 0);
  const lines = options.map((o) => `  ${labelStartsWithValue(o) ? o.label : `${o.value.padEnd(width)}  ${o.label}`}`);
  return { prompt: `${field.label}${/[?:]$/.test(field.label) ? '' : ':'}`, choices: `${asked} — ${how}${proposed}:\n${lines.join('\n')}` };
}

/** "T-IS-004 Control degradation…" names its value already; "internal data only" for "internal" too; "personal and customer data" for "personal_and_customer" does not. */
function labelStartsWithValue(option: { value: string; label: string }): boolean {
  const label = option.label.toLowerCase();
  const value = option.value.toLowerCase();
  return label.startsWith(value) && !/[\p{L}\p{N}_-]/u.test(label.charAt(value.length));
}

function isMenu(field: FormField): boolean {
  return Boolean(field.options?.length) && (field.type === 'select' || field.type === 'multiselect');
}

/** What a person may type for a choice: its value, its label, or the label's words after the value it starts with. */
function namesOf(option: { value: string; label: string }): string[] {
  const names = [option.value, option.label];
  if (labelStartsWithValue(option)) names.push(option.label.slice(option.value.length).replace(/^[\s—–:-]+/, ''));
  return names.map((n) => n.toLowerCase()).filter(Boolean);
}

/**
 * The choices an answer names, or the first part of it that names none. A multiselect's answer is split
 * at commas, except inside a choice's name: "CTL-AC-01 Identity lifecycle, need-to-know access" is one
 * choice, whole, the longest name that fits being taken first.
 */
function pick(field: FormField, typed: string): { values: string[] } | { unknown: string } {
  const options = field.options!;
  const named = (text: string) => options.find((o) => namesOf(o).includes(text.toLowerCase()));
  if (field.type !== 'multiselect') {
    const option = named(typed);
    return option ? { values: [option.value] } : { unknown: typed };
  }
  const values: string[] = [];
  let rest = typed;
  for (;;) {
    rest = rest.replace(/^[\s,]+/, '');
    if (!rest) return { values };
    const lower = rest.toLowerCase();
    let best: { value: string; length: number } | undefined;
    for (const o of options) {
      for (const name of namesOf(o)) {
        const fits = lower.startsWith(name) && /^\s*(,|$)/.test(lower.slice(name.length));
        if (fits && name.length > (best?.length ?? 0)) best = { value: o.value, length: name.length };
      }
    }
    if (!best) return { unknown: rest.split(',')[0].trim() };
    if (!values.includes(best.value)) values.push(best.value);
    rest = rest.slice(best.length);
  }
}

/** A short menu names its choices again; a long one names the closest few and how to see them all. */
function notAChoiceMessage(field: FormField, typed: string, listed: boolean): string {
  const options = field.options!;
  const again = 'Answer again, or "/cancel".';
  if (options.length <= SHORT_MENU) return `✖ "${typed}" is not one of the choices (${options.map((o) => o.value).join(', ')}). ${again}`;
  const near = closestChoices(options, typed);
  const seeAll = listed ? '"?" lists them all again' : 'the question line lists them all';
  const closest = near.length ? ` The closest: ${near.map((o) => (labelStartsWithValue(o) || o.label === o.value ? o.label : `${o.value} (${o.label})`)).join('; ')}.` : '';
  return `✖ "${typed}" is not one of the ${options.length} choices.${closest} Answer again (${seeAll}), or "/cancel".`;
}

/** A menu this short is named again whole after a wrong answer. */
const SHORT_MENU = 8;

/** Up to three choices a slip of the keyboard, or a word of their name, most likely meant. */
function closestChoices(options: { value: string; label: string }[], typed: string): { value: string; label: string }[] {
  const t = typed.toLowerCase();
  const containing = options.filter((o) => t.length >= 3 && namesOf(o).some((n) => n.includes(t)));
  const scored = options.map((o) => {
    const names = namesOf(o);
    // A word of few names ("shadow") points at them; one of many ("ctl") at none.
    const contains = containing.length <= 3 && containing.includes(o);
    const d = Math.min(...names.map((n) => distance(t, n)));
    const near = d <= Math.max(2, Math.floor(Math.min(t.length, o.value.length) / 3));
    return { o, score: contains ? -1 : near ? d : Infinity };
  });
  return scored.filter((s) => s.score !== Infinity).sort((a, b) => a.score - b.score).slice(0, 3).map((s) => s.o);
}

function indent(s: string): string {
  return s.split('\n').map((l) => `  ${l}`).join('\n');
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
