/**
 * AI assistance: a plain-language message ("I started using Otter for meeting notes") becomes a
 * proposed command, shown as that command's own form, pre-filled. The model's answer is only a
 * proposal: it never chooses who acts, never runs anything, and nothing is written until the person
 * submits the form, which goes through the router like a typed command. Any failure (slow endpoint,
 * error, an answer that does not parse) means no proposal, and the person gets the plain answer.
 */
import type OpenAI from 'openai-v6';
import { z, type ZodTypeAny } from 'zod';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { people } from '../db/schema/index.js';
import { objectOf } from './args.js';
import { type FormField, type Reply, formBlock, reply, text } from './reply.js';
import type { CommandRouter, CommandSpec, Inbound } from './router.js';
import type { Prompt } from './prompts.js';
import { assistantCalls, assistantTokens } from './metrics.js';
import { PROPOSED_BY_FIELD, proposedByValue } from './proposals.js';
import { isLead, type Actor } from './actor.js';

export interface AssistantConfig {
  apiKey: string;
  /** An OpenAI-compatible server; the OpenAI API when left out. */
  baseUrl?: string;
  model: string;
  /** How long a proposal may take before the plain answer goes instead. */
  timeoutMs: number;
  /** Evidence summaries may send a submitted file's extracted text (ISMS_AI_FILE_TEXT); off by default. */
  fileText?: boolean;
}

/**
 * What plain language needs while AI assistance is off, said by help and by the answer to a plain
 * message: to the ISMS lead, what whoever runs the bot sets; to anyone else, whom to ask.
 */
export const plainLanguageOff = (actor: Actor): string => (isLead(actor)
  ? 'need AI assistance, which is off: whoever runs the bot sets OPENAI_API_KEY, OPENAI_MODEL and, for another server than OpenAI, OPENAI_BASE_URL.'
  : 'need AI assistance, which is not switched on here: ask the ISMS lead if you would like it.');

/**
 * Words that show which command a plain message most likely means, for the answer without AI
 * assistance: a hint only, checked against the commands the person may run.
 */
const LOOKS_LIKE: [RegExp, string][] = [
  [/\b(ai|chat ?gpt|gpt|copilot|claude|gemini|otter|llm|chatbots?|transcri\w*|meeting notes)\b/i, 'declare ai'],
  [/\b(suppliers?|vendors?|contracts?|providers?|outsourc\w*)\b/i, 'declare supplier'],
];

/** The command a plain message looks like ("I started using Otter for meeting notes" → "declare ai"), if any. */
export const looksLike = (message: string): string | undefined => LOOKS_LIKE.find(([words]) => words.test(message))?.[1];

export const PROPOSAL_NOTE = 'Proposed from your message — check and submit. Nothing is recorded until you submit it.';

/** What the model may not see: the person's email (and anyone else's), the person's name, and mentions ("@sam", "@U0ABC"). */
export function minimise(message: string, person: { name: string; email: string }): string {
  let out = message.replace(/[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+/g, '[email]')
    .replace(/(?<![\p{L}\p{N}_.@-])@[\p{L}\p{N}._-]+/gu, '[name]');
  const names = [person.name, ...person.name.split(/\s+/)].filter((n) => n.length >= 2).sort((a, b) => b.length - a.length);
  for (const name of names) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Not inside a word, nor inside a placeholder already put in ("Email" in "[email]").
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}[])${escaped}(?![\\p{L}\\p{N}\\]])`, 'giu'), '[name]');
  }
  return out;
}

/** The message with every registered person's name and email replaced, and any other email and mention. */
export async function minimiseAll(db: Db, message: string): Promise<string> {
  let out = message;
  for (const person of await db.select({ name: people.name, email: people.email }).from(people)) out = minimise(out, person);
  return out;
}

/** A field the model may fill: the command's own schema for it, null meaning "the message does not say". */
function nullable(schema: ZodTypeAny): ZodTypeAny {
  return (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault ? schema._def.innerType as ZodTypeAny : schema).nullable();
}

/** The fields of a command that a person fills in its form as text or choices (never a file, never a hidden value). */
function proposableFields(router: CommandRouter, spec: CommandSpec): string[] {
  return router.argsOf(spec).filter((a) => a.asked && a.kind !== 'hidden' && a.field !== 'file').map((a) => a.name);
}

/**
 * The answer's schema, derived from the allowed commands' own zod schemas: one option per command
 * (its name and its form's fields), or "none".
 */
function answerSchema(router: CommandRouter, specs: CommandSpec[]) {
  const options = specs.map((spec) => {
    const shape = objectOf(spec.schema)?.shape;
    if (!shape) throw new Error(`"${spec.name}" has no object schema to propose from`);
    const fields = Object.fromEntries(proposableFields(router, spec).map((name) => [name, nullable(shape[name])]));
    return z.object({ command: z.literal(spec.name), fields: z.object(fields) });
  });
  const none = z.object({ command: z.literal('none') });
  return z.object({ proposal: z.union([none, ...options] as unknown as [ZodTypeAny, ZodTypeAny, ...ZodTypeAny[]]) });
}

interface Proposal { command: string; fields?: Record<string, unknown> }

/**
 * One structured call to the configured model: the prompt's text as instructions, the answer parsed
 * with `schema`. Any failure (timeout, HTTP error, an answer that does not parse) gives undefined,
 * logged without content; calls and token usage are counted.
 */
export class ModelClient {
  private sdk?: Promise<{ client: OpenAI; APIError: typeof OpenAI.APIError; format: typeof import('openai-v6/helpers/zod').zodResponseFormat }>;
  private readonly formats = new Map<ZodTypeAny, unknown>();
  private calls = 0;
  private promptTokens = 0;
  private completionTokens = 0;

  constructor(private readonly config: AssistantConfig, private readonly logger: Logger) {}

  /** The OpenAI SDK, loaded on the first call rather than at start-up. */
  private loadSdk() {
    this.sdk ??= Promise.all([import('openai-v6'), import('openai-v6/helpers/zod')]).then(([{ default: OpenAISdk }, { zodResponseFormat }]) => ({
      // Retries would outlast the answer deadline; the plain answer is the retry.
      client: new OpenAISdk({ apiKey: this.config.apiKey, baseURL: this.config.baseUrl, timeout: this.config.timeoutMs, maxRetries: 0, logLevel: 'off' }),
      APIError: OpenAISdk.APIError,
      format: zodResponseFormat,
    }));
    return this.sdk;
  }

  get model(): string {
    return this.config.model;
  }

  /** `formatName` names the JSON schema derived from `schema` that the answer must follow. */
  async ask<S extends ZodTypeAny>(prompt: Prompt, schema: S, formatName: string, instructions: string,
    message: string): Promise<z.infer<S> | undefined> {
    const started = Date.now();
    this.calls += 1;
    const sdk = await this.loadSdk();
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    let content: string | null | undefined;
    try {
      if (!this.formats.has(schema)) this.formats.set(schema, sdk.format(schema, formatName));
      const completion = await sdk.client.chat.completions.create({
        model: this.config.model,
        ...prompt.parameters,
        messages: [{ role: 'system', content: instructions }, { role: 'user', content: message }],
        response_format: this.formats.get(schema) as ReturnType<typeof sdk.format>,
      }, { signal: timeout, timeout: this.config.timeoutMs });
      this.promptTokens += completion.usage?.prompt_tokens ?? 0;
      this.completionTokens += completion.usage?.completion_tokens ?? 0;
      assistantTokens.inc({ prompt: prompt.name, kind: 'prompt' }, completion.usage?.prompt_tokens ?? 0);
      assistantTokens.inc({ prompt: prompt.name, kind: 'completion' }, completion.usage?.completion_tokens ?? 0);
      this.logger.info({
        promptVersion: prompt.version, ms: Date.now() - started, calls: this.calls,
        promptTokens: completion.usage?.prompt_tokens, completionTokens: completion.usage?.completion_tokens,
        totalPromptTokens: this.promptTokens, totalCompletionTokens: this.completionTokens,
      }, 'assistant call');
      content = completion.choices[0]?.message?.content;
    } catch (e) {
      const status = e instanceof sdk.APIError ? e.status : undefined;
      assistantCalls.inc({ prompt: prompt.name, outcome: 'unavailable' });
      this.logger.warn({ promptVersion: prompt.version, ms: Date.now() - started, calls: this.calls, status, error: e instanceof Error ? e.name : 'unknown' },
        'assistant unavailable: the plain answer goes instead');
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(content ?? '');
    } catch {
      assistantCalls.inc({ prompt: prompt.name, outcome: 'discarded' });
      this.logger.warn({ promptVersion: prompt.version }, 'assistant answer discarded: not JSON');
      return undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      assistantCalls.inc({ prompt: prompt.name, outcome: 'discarded' });
      // Paths and codes only: a message quoted back in the answer must not reach the log.
      this.logger.warn({ promptVersion: prompt.version, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`) },
        'assistant answer discarded: does not match the schema');
      return undefined;
    }
    assistantCalls.inc({ prompt: prompt.name, outcome: 'answered' });
    // The values as the model gave them: a form shows them as typed input, and a submission parses them again.
    return json as z.infer<S>;
  }
}

export class Assistant {
  private readonly client: ModelClient;
  private readonly specs: CommandSpec[];
  private readonly schema: ReturnType<typeof answerSchema>;
  private readonly instructions: string;

  constructor(private readonly config: AssistantConfig, private readonly prompt: Prompt,
    private readonly router: CommandRouter, private readonly db: Db, private readonly logger: Logger) {
    this.client = new ModelClient(config, logger);
    this.specs = (prompt.commands ?? []).map((name) => {
      const spec = router.find(name);
      if (!spec) throw new Error(`prompts/${prompt.name}/config.json names "${name}", which is not a command`);
      return spec;
    });
    this.schema = answerSchema(router, this.specs);
    const listed = this.specs.map((s) => `- "${s.name}": ${s.summary}. Fields: ${router.argsOf(s).filter((a) => proposableFields(router, s).includes(a.name))
      .map((a) => `${a.name} (${a.description ?? a.label})`).join(', ')}`);
    this.instructions = `${prompt.text}\n${listed.join('\n')}`;
  }

  get version(): string {
    return this.prompt.version;
  }

  /**
   * The command a plain-language message asks for, as its form pre-filled with what the message says;
   * undefined when the model proposes nothing the person may run, or cannot be asked in time.
   */
  async propose(message: string, inbound: Inbound): Promise<Reply | undefined> {
    const proposal = await this.ask(minimise(await minimiseAll(this.db, message), inbound.actor));
    if (!proposal || proposal.command === 'none') return undefined;
    const spec = this.specs.find((s) => s.name === proposal.command);
    // Only what the person may run themselves: the proposal never raises a role.
    if (!spec || !this.router.visibleTo(inbound.actor).includes(spec)) return undefined;
    const form = await this.router.context(this.db, inbound, spec).form({ fields: this.initialValues(spec, proposal.fields ?? {}) });
    // Travels with the form, so the submission's audit trail says which prompt and model proposed it.
    const proposed = { ...form, hidden: { ...form.hidden, [PROPOSED_BY_FIELD]: proposedByValue(this.prompt.version, this.client.model) } };
    return {
      ...reply(text(PROPOSAL_NOTE), formBlock(proposed), text(`Proposal by ${this.prompt.version} (model ${this.client.model}).`)),
      outcome: 'form', visibility: 'private',
    };
  }

  /** The model's values as the form's initial values, in the form's own terms (a list for a multiple choice). */
  private initialValues(spec: CommandSpec, values: Record<string, unknown>): Record<string, Partial<FormField>> {
    const byName = new Map(this.router.argsOf(spec).map((a) => [a.name, a]));
    const out: Record<string, Partial<FormField>> = {};
    for (const [name, value] of Object.entries(values)) {
      if (value === null || value === undefined || value === '') continue;
      const list = Array.isArray(value) ? value.map(String) : undefined;
      out[name] = { initial: byName.get(name)?.field === 'multiselect' ? list ?? [String(value)] : list ? list.join(',') : String(value) };
    }
    return out;
  }

  /** One call to the model; undefined on any failure, logged without the message. */
  private async ask(message: string): Promise<Proposal | undefined> {
    const answer = await this.client.ask(this.prompt, this.schema, 'proposal', this.instructions, message);
    return (answer as { proposal: Proposal } | undefined)?.proposal;
  }
}
