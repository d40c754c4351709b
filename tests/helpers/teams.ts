import { Writable } from 'node:stream';
import { expect } from 'vitest';
import * as AC from 'adaptivecards';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { TestAdapter, type Activity, type ResourceResponse, type TurnContext } from 'botbuilder';
import { assembleCore, type Core } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { HttpServer } from '../../src/http.js';
import { people, auditEvents, type Role } from '../../src/db/schema/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { CAST, type CastKey } from './bot.js';
import { attachTeams, createTeamsBot, type TeamsBot } from '../../adapters/teams/teams.js';
import { INPUT_PREFIX } from '../../adapters/teams/cards.js';
import type { ChatPort } from '../../src/core/port.js';
import { FakeConnector, type PostedActivity } from './fake-connector.js';
import { addControl } from './fixtures.js';
import { deliverDue } from '../../src/core/delivery.js';

export const TENANT = 'tenant-1';
export const BOT = { id: '28:isms-bot', name: 'ISMS' };
/** Someone in the register whose Teams account is not linked yet: found by email. */
export const NEWCOMER = { name: 'Nina Newcomer', email: 'nina@test.example', roles: ['staff'] as Role[] };

export const aadOf = (who: CastKey) => `aad-${who}`;
export const teamsUserOf = (who: CastKey) => ({ id: `29:${who}`, name: CAST[who].name, aadObjectId: aadOf(who) });
/** The personal chat of a cast member with the bot. */
export const personalChatOf = (who: string) => `a:personal-${who}`;

export interface TeamsTestCore {
  core: Core;
  t: TestDatabase;
  ids: Record<CastKey | 'newcomer', number>;
  /** Every line the bot logged, as JSON text. */
  logs: string[];
  auditCount(): Promise<number>;
  person(id: number): Promise<typeof people.$inferSelect>;
  destroy(): Promise<void>;
}

/** The Core object as startCore builds it, on a fresh test database with the cast (Teams-linked) and one unlinked newcomer. */
export async function createTeamsCore(env: Record<string, string> = {}): Promise<TeamsTestCore> {
  const config = loadConfig({ TEAMS_ENABLED: 'true', ISMS_EXAMPLE_ORG: 'false', ...env });
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const logger = createLogger('debug', sink);
  const t = await createTestDatabase();
  const ids = {} as TeamsTestCore['ids'];
  for (const key of Object.keys(CAST) as CastKey[]) {
    const [row] = await t.db.insert(people).values({ ...CAST[key], roles: [...CAST[key].roles], timezone: 'Europe/Berlin', teamsAadObjectId: aadOf(key) }).returning();
    ids[key] = row.id;
  }
  const [newcomer] = await t.db.insert(people).values({ ...NEWCOMER, timezone: 'Europe/Berlin' }).returning();
  ids.newcomer = newcomer.id;
  const core: Core = assembleCore(config, logger, t);
  return {
    core, t, ids, logs,
    auditCount: async () => (await t.db.select().from(auditEvents)).length,
    person: async (id) => (await t.db.select().from(people).where(eq(people.id, id)))[0],
    destroy: () => t.destroy(),
  };
}

/** A message a cast member types to the bot in their personal chat. */
export function personalMessage(who: CastKey, text: string, extra: Partial<Activity> = {}): Partial<Activity> {
  return {
    type: 'message',
    id: randomUUID(),
    channelId: 'msteams',
    text,
    from: teamsUserOf(who),
    recipient: BOT,
    conversation: { id: personalChatOf(who), conversationType: 'personal', tenantId: TENANT, isGroup: false, name: '' },
    channelData: { tenant: { id: TENANT } },
    ...extra,
  };
}

/** A message in a team channel that @mentions the bot, as Teams delivers it. */
export function channelMention(who: CastKey, command: string, extra: Partial<Activity> = {}): Partial<Activity> {
  const mention = `<at>${BOT.name}</at>`;
  return personalMessage(who, `${mention} ${command}`, {
    conversation: { id: '19:general@thread.tacv2;messageid=1700000000000', conversationType: 'channel', tenantId: TENANT, isGroup: true, name: 'General' },
    entities: [{ type: 'mention', text: mention, mentioned: BOT }],
    ...extra,
  });
}

/** What Teams sends when someone clicks an Action.Submit: its data merged with the card's input values. */
export function clickActivity(who: CastKey, card: Record<string, any>, actionTitle: string, inputs: Record<string, string> = {}, extra: Partial<Activity> = {}): Partial<Activity> {
  const action = findAction(card, actionTitle);
  if (!action) throw new Error(`the card has no action "${actionTitle}"; it has ${allActions(card).map((a) => `"${a.title}"`).join(', ')}`);
  const value: Record<string, unknown> = { ...action.data };
  for (const [name, v] of Object.entries(inputs)) value[INPUT_PREFIX + name] = v;
  return personalMessage(who, '', { text: undefined, value, ...extra });
}

/** Teams refuses messages larger than about 28 KB. */
const TEAMS_MESSAGE_LIMIT = 28_000;

/** Parses a card as Teams' Adaptive Cards 1.5 host would; returns every parse or validation complaint. */
export function cardProblems(card: object): string[] {
  const context = new AC.SerializationContext(new AC.Version(1, 5));
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
  for (const event of parsed.validateProperties().validationEvents) problems.push(event.message);
  if (JSON.stringify(card).length > TEAMS_MESSAGE_LIMIT) problems.push('larger than a Teams message may be');
  return problems;
}

/** The Adaptive Card an activity carries. */
export function cardOf(activity: Partial<Activity>): Record<string, any> {
  const attachment = activity.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  if (!attachment) throw new Error(`the activity carries no Adaptive Card: ${JSON.stringify(activity).slice(0, 300)}`);
  return attachment.content as Record<string, any>;
}

function walk(node: unknown, visit: (n: Record<string, any>) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Record<string, any>);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

export function allActions(card: Record<string, any>): Record<string, any>[] {
  const found: Record<string, any>[] = [];
  walk(card, (n) => { if (n.type === 'Action.Submit') found.push(n); });
  return found;
}

export const findAction = (card: Record<string, any>, title: string) => allActions(card).find((a) => a.title === title);

/** What a person reads on the card: texts, facts, input labels and button titles, one per line. */
export function cardText(card: Record<string, any>): string {
  const lines: string[] = [];
  walk(card.body, (n) => {
    if (n.type === 'TextBlock') lines.push(n.text);
    if (n.type === 'FactSet') for (const f of n.facts) lines.push(`${f.title}: ${f.value}`);
    if (typeof n.type === 'string' && n.type.startsWith('Input.')) lines.push(`[${n.label}]`);
    if (n.type === 'Action.Submit') lines.push(`(${n.title})`);
  });
  return lines.join('\n');
}

/** The values a card's inputs show, by field name. */
export function inputValues(card: Record<string, any>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  walk(card.body, (n) => {
    if (typeof n.type === 'string' && n.type.startsWith('Input.') && n.value !== undefined) values[String(n.id).slice(INPUT_PREFIX.length)] = n.value;
  });
  return values;
}

/** botbuilder's TestAdapter, also keeping the cards the bot replaced. */
export class RecordingTestAdapter extends TestAdapter {
  readonly updates: Partial<Activity>[] = [];
  override async updateActivity(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse | void> {
    this.updates.push(activity);
    return super.updateActivity(context, activity);
  }

  /** Runs one incoming activity through the bot and returns what it sent back. */
  async turn(activity: Partial<Activity>): Promise<Partial<Activity>[]> {
    await this.processActivity(activity);
    return this.activeQueue.splice(0).filter((a) => a.type === 'message');
  }
}

/** The real teams-ai Application driven by botbuilder's TestAdapter (no HTTP, no Bot Connector). */
export function createTestAdapterBot(core: Core): { bot: TeamsBot; adapter: RecordingTestAdapter } {
  const bot = createTeamsBot(core);
  const adapter = new RecordingTestAdapter(async (context) => { await bot.app.run(context); });
  adapter.onTurnError = bot.onTurnError;
  return { bot, adapter };
}

export interface TeamsServer {
  url: string;
  port: ChatPort;
  /**
   * POSTs an activity to /api/messages as the Bot Framework channel would, and resolves once the bot
   * has finished with it: a message is answered with 200 at once and replied to through the Bot
   * Connector afterwards, so this waits until the bot has no request or turn in flight.
   */
  post(activity: Partial<Activity>, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** The HTTP exchange alone: resolves with the bot's HTTP answer, its turn possibly still running. */
  answer(activity: Partial<Activity>, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** Resolves once the bot has no request or turn in flight. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** The bot's own HttpServer with the Teams adapter attached, on a free local port. */
export async function startTeamsServer(core: Core): Promise<TeamsServer> {
  const http = new HttpServer((e) => core.logger.error({ err: e }, 'http handler failed'));
  const teams = await attachTeams(core, http);
  const port = await http.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/api/messages`;
  const answer = async (activity: Partial<Activity>, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(activity) });
    return { status: res.status, body: await res.text() };
  };
  const settled = async () => {
    // Bounded only so a turn that never ends fails the test that caused it instead of hanging it.
    if (!await http.inFlight.settled(120_000)) throw new Error('the Teams bot still had a turn in flight after 2 minutes');
  };
  return {
    url,
    port: teams.port,
    answer,
    settled,
    async post(activity, headers = {}) {
      const res = await answer(activity, headers);
      await settled();
      return res;
    },
    async stop() {
      await teams.stop();
      await http.close();
    },
  };
}

export interface TeamsStack { h: TeamsTestCore; server: TeamsServer; connector: FakeConnector; stop(): Promise<void> }

/** A fresh core with the bot's HTTP server, and a fake Bot Connector for activities' serviceUrl. */
export async function startTeamsStack(env: Record<string, string> = {}): Promise<TeamsStack> {
  const connector = await new FakeConnector().start();
  const h = await createTeamsCore(env);
  const server = await startTeamsServer(h.core);
  return {
    h, server, connector,
    async stop() {
      await server.stop();
      await connector.stop();
      await h.destroy();
    },
  };
}

/**
 * What a payload test sends and reads back on the stack `current()` gives (started in a beforeAll):
 * activities addressed to its fake Bot Connector, and a POST that gives the HTTP answer and the texts
 * the bot posted for it, failing on any internal fault.
 */
export function payloadDriver(current: () => TeamsStack) {
  return {
    message: (...args: Parameters<typeof personalMessage>) => ({ ...personalMessage(...args), serviceUrl: current().connector.url }) as Record<string, any>,
    inChannel: (...args: Parameters<typeof channelMention>) => ({ ...channelMention(...args), serviceUrl: current().connector.url }) as Record<string, any>,
    async post(activity: Record<string, unknown>) {
      const { h, server, connector } = current();
      const before = connector.posted.length;
      const logs = h.logs.length;
      const res = await server.post(activity);
      const posted = connector.posted.slice(before).map((p) => cardText(cardOf(p.activity)));
      expect(h.logs.slice(logs).join('\n')).not.toContain('Teams turn failed');
      return { ...res, posted };
    },
  };
}

/**
 * The ISMS lead asks the owner of control CTL-AC-01 (made here) for evidence, both having talked to
 * the bot in Teams: gives the request message the owner got in their personal chat.
 */
export async function requestEvidenceInTeams({ h, server, connector }: TeamsStack): Promise<PostedActivity> {
  await addControl(h.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: h.ids.owner });
  for (const [who, text] of [['owner', 'help'], ['lead', 'request CTL-AC-01']] as const) {
    const { status } = await server.post({ ...personalMessage(who, text), serviceUrl: connector.url });
    if (status !== 200) throw new Error(`the bot answered "${text}" with HTTP ${status}`);
  }
  const before = connector.posted.length;
  await deliverDue(h.t.db, [server.port]);
  return connector.posted.slice(before).find((p) => p.conversationId === personalChatOf('owner'))!;
}
