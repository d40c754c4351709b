/**
 * A Slack workspace around the bot for tests: a register with a small cast, the fake Slack Web API,
 * the Slack adapter on a real HTTP server, a sender that signs requests as Slack does, the bot's
 * log lines, and builders for the payloads Slack posts (slash commands, clicks, modal submissions,
 * message events) as Slack documents them.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './db.js';
import { FakeSlack, type SlackCall } from './fake-slack.js';
import { SlackSender } from './slack-sign.js';
import { HttpServer } from '../../src/http.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { assembleCore, type Core } from '../../src/app.js';
import { auditEvents, people, type Role } from '../../src/db/schema/index.js';
import { attachSlack, type AttachedSlack } from '../../adapters/slack/slack.js';
import { deliverDue } from '../../src/core/delivery.js';
import { addControl } from './fixtures.js';
import { EVENTS_PATH, SLASH_COMMAND } from '../../adapters/slack/ids.js';

export const SECRET = 'test-signing-secret';
/** The front door's thread as the bot starts it (src/main.ts): Slack's commands acknowledged on a thread of their own. */
export const FRONT_DOOR_THREAD = new URL('../../adapters/front-door-thread.ts', import.meta.url).href;
export const BOT_TOKEN = 'xoxb-test-bot-token';

/** Fast retries for tests: the policy is the WebClient's, only the waits are shorter. */
export const retryConfig = { retries: 2, minTimeout: 10, maxTimeout: 20 };

/** Every log line the bot writes, as JSON, so tests can read what an operator would. */
export class LogSink extends Writable {
  readonly lines: Record<string, any>[] = [];
  readonly events = new EventEmitter();
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of String(chunk).split('\n').filter(Boolean)) this.lines.push(JSON.parse(line));
    this.events.emit('line');
    done();
  }
  text(): string { return this.lines.map((l) => JSON.stringify(l)).join('\n'); }
  async waitFor(match: (line: Record<string, any>) => boolean, timeoutMs = 15_000): Promise<Record<string, any>> {
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no such log line')), timeoutMs);
        this.events.once('line', () => { clearTimeout(timer); resolve(); });
      });
    }
  }
}

export interface Cast { id: number; slack?: string; name: string; email: string; roles: Role[] }
export const CAST = {
  lead: { name: 'Lena Lead', email: 'lena@test.example', roles: ['isms_lead', 'staff'] as Role[], slack: 'ULENA' },
  staff: { name: 'Sam Staff', email: 'sam@test.example', roles: ['staff'] as Role[], slack: 'USAM' },
  owner: { name: 'Olga Owner', email: 'olga@test.example', roles: ['control_owner', 'staff'] as Role[], slack: 'UOLGA' },
  /** In the register by email only: Slack finds her through users.info. */
  eve: { name: 'Eve Email', email: 'eve@test.example', roles: ['staff'] as Role[], slack: undefined },
};
export type Who = keyof typeof CAST;

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${++counter}`;

export class SlackWorkspace {
  readonly cast = {} as Record<Who, Cast>;
  readonly logs = new LogSink();
  readonly http = new HttpServer(() => undefined);
  fake!: FakeSlack;
  /** The core the adapter runs on. */
  bot!: Core;
  slack!: AttachedSlack;
  sender!: SlackSender;

  private constructor(readonly t: TestDatabase) {}

  /**
   * A fresh register with the cast, the fake Web API (which knows Eve and a stranger) and the adapter on HTTP;
   * `database`: the bot's connection to the register, when a test puts something between them.
   */
  static async start(env: Record<string, string> = {}, database?: TestDatabase, options: { frontDoor?: boolean } = {}): Promise<SlackWorkspace> {
    const w = new SlackWorkspace(database ?? await createTestDatabase());
    for (const [key, who] of Object.entries(CAST) as [Who, (typeof CAST)[Who]][]) {
      const [row] = await w.t.db.insert(people).values({ name: who.name, email: who.email, roles: who.roles, slackUserId: who.slack }).returning();
      w.cast[key] = { id: row.id, ...who };
    }
    w.fake = await FakeSlack.start();
    w.fake.users.set('UEVE', { email: CAST.eve.email, tz: 'America/Chicago' });
    w.fake.users.set('USTRANGER', { email: 'stranger@elsewhere.example' });
    w.bot = w.core({ SLACK_SIGNING_SECRET: SECRET, ...env });
    w.slack = await attachSlack(w.bot, w.http, { retryConfig });
    const port = await w.http.listen(0, '127.0.0.1', options.frontDoor ? { frontDoor: FRONT_DOOR_THREAD } : {});
    w.sender = new SlackSender(`http://127.0.0.1:${port}${EVENTS_PATH}`, SECRET);
    return w;
  }

  /** A core on this register, logging here, configured for the fake Web API. */
  core(env: Record<string, string>): Core {
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: this.fake.apiUrl, ISMS_EXAMPLE_ORG: 'false', ...env });
    return assembleCore(config, createLogger('debug', this.logs), this.t);
  }

  async close(): Promise<void> {
    await this.slack?.stop();
    await this.http.close();
    await this.fake?.close();
    await this.t.destroy();
  }

  async person(who: Who) {
    const [p] = await this.t.db.select().from(people).where(eq(people.id, this.cast[who].id));
    return p;
  }

  async auditCount(): Promise<number> {
    return (await this.t.db.select().from(auditEvents)).length;
  }

  /** Slack's slash command fields for one person; `typed` is the text as Slack sends it (escaped). */
  slashCommand(who: string, typed: string, responseId: string, triggerId = unique('trigger')): Record<string, string> {
    return {
      token: 'legacy', team_id: 'T0TEST', team_domain: 'test', channel_id: 'CGENERAL', channel_name: 'general',
      user_id: who, user_name: who.toLowerCase(), command: SLASH_COMMAND, text: typed, api_app_id: 'A0TEST',
      response_url: this.fake.responseUrl(responseId), trigger_id: this.fake.trigger(triggerId),
    };
  }

  /** A click on a button of a message the bot posted. */
  clickPayload(who: string, message: BotMessage, label: string, responseId: string, triggerId = unique('trigger')) {
    const { blockId, button } = findButton(message.blocks, label);
    return {
      type: 'block_actions', api_app_id: 'A0TEST', token: 'legacy', trigger_id: this.fake.trigger(triggerId),
      user: { id: who, username: who.toLowerCase(), name: who.toLowerCase(), team_id: 'T0TEST' },
      team: { id: 'T0TEST', domain: 'test' },
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      channel: { id: message.channel, name: 'directmessage' },
      message: { type: 'message', user: 'UBOT', ts: message.ts, text: 'message', blocks: message.blocks },
      response_url: this.fake.responseUrl(responseId),
      actions: [{ type: 'button', action_id: button.action_id, block_id: blockId, text: button.text, value: button.value, action_ts: `${Date.now() / 1000}` }],
    };
  }

  responseTo(id: string): Promise<SlackCall> { return this.fake.waitForCall('response_url', (c) => c.args.id === id); }
  openedWith(trigger: string): Promise<SlackCall> { return this.fake.waitForCall('views.open', (c) => c.args.trigger_id === trigger); }
  updateOf(opened: SlackCall): Promise<SlackCall> { return this.fake.waitForCall('views.update', (c) => c.args.view_id === opened.response!.view.id); }

  /** The ISMS lead asks `who` for evidence on a new control; the request reaches them as a direct message. */
  async evidenceRequest(who: Who, control: string): Promise<{ ref: string; request: BotMessage }> {
    const asked = this.cast[who];
    await addControl(this.t.db, { code: control, ownerId: asked.id });
    await this.sender.command(this.slashCommand('ULENA', `request ${control}`, `request-${control}`));
    const ref = /EVR-\d{4}/.exec(blockText((await this.responseTo(`request-${control}`)).args.blocks))![0];
    await deliverDue(this.t.db, [this.slack.port]);
    return { ref, request: postedMessage(this.fake.callsTo('chat.postMessage').find((c) => c.args.channel === asked.slack && String(c.args.text).includes(ref))!) };
  }

  /** Opens a command's form as Slack would (slash command, loading modal, form) and gives the form's view. */
  async formOf(who: string, typed: string): Promise<any> {
    const trigger = unique('trigger');
    await this.sender.command(this.slashCommand(who, typed, unique('form'), trigger));
    const update = await this.updateOf(await this.openedWith(trigger));
    return { ...update.args.view, id: update.args.view_id, hash: update.response!.view.hash };
  }
}

/** A direct message to the bot as the Events API delivers it (text escaped as Slack escapes it). */
export function directMessage(who: string, channel: string, text: string, ts: string, threadTs?: string, files?: { id: string; name: string }[]) {
  return {
    type: 'message', ...(files ? { subtype: 'file_share', files } : {}), channel, channel_type: 'im', user: who, text, ts, event_ts: ts,
    ...(threadTs ? { thread_ts: threadTs } : {}),
  };
}

/** All text a person would read in a list of Block Kit blocks. */
export function blockText(blocks: any[]): string {
  const out: string[] = [];
  const walk = (v: any) => {
    if (!v || typeof v !== 'object') return;
    if (typeof v.text === 'string') out.push(v.text);
    for (const value of Object.values(v)) if (typeof value === 'object') walk(value);
  };
  walk(blocks);
  return out.join('\n');
}

export interface BotMessage { channel: string; ts: string; blocks: any[] }

/** A message the bot posted, as Slack shows it back in interactions (every block has a block_id). */
export function postedMessage(call: SlackCall): BotMessage {
  return {
    channel: call.response!.channel,
    ts: call.response!.ts,
    blocks: (call.args.blocks as any[]).map((b, i) => ({ block_id: `blk${i}`, ...b })),
  };
}

/** A button by its label, or by the command it runs when labels repeat. */
export function findButton(blocks: any[], label: string, command?: string): { blockId: string; button: any } {
  for (const b of blocks) {
    for (const e of [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])]) {
      if (e.type === 'button' && e.text.text === label && (command === undefined || e.value === command)) return { blockId: b.block_id, button: e };
    }
  }
  throw new Error(`no button "${label}" in ${JSON.stringify(blocks)}`);
}

/** A modal as Slack submits it: the view the bot opened, with the person's input in state.values. */
export function submission(who: string, view: any, values: Record<string, any>) {
  const state: Record<string, Record<string, any>> = {};
  for (const block of view.blocks.filter((b: any) => b.type === 'input')) {
    state[block.block_id] = { [block.element.action_id]: { type: block.element.type, ...(values[block.block_id] ?? {}) } };
  }
  return {
    type: 'view_submission', api_app_id: 'A0TEST', token: 'legacy', trigger_id: unique('trigger'),
    team: { id: 'T0TEST', domain: 'test' },
    user: { id: who, username: who.toLowerCase(), name: who.toLowerCase(), team_id: 'T0TEST' },
    view: {
      ...view, id: view.id ?? unique('V'), hash: view.hash ?? unique('hash'), team_id: 'T0TEST', app_id: 'A0TEST', bot_id: 'BBOT',
      root_view_id: null, previous_view_id: null, clear_on_close: false, notify_on_close: false, state: { values: state },
    },
    response_urls: [],
  };
}
