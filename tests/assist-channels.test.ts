/**
 * AI assistance where others read along: a Slack channel mention and a Teams channel message that
 * @mentions the bot get their proposal privately (ephemeral, the direct message or the personal chat,
 * never the channel), once per delivery. A confirmed proposal's audit trail says which prompt and model
 * proposed it. The calls are counted on GET /metrics and logged without the message.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { FakeOpenAi } from './helpers/fake-openai.js';
import { SlackWorkspace, blockText, postedMessage, submission, unique, type BotMessage } from './helpers/fake-slack-workspace.js';
import type { SlackCall } from './helpers/fake-slack.js';
import {
  cardOf, cardText, channelMention, clickActivity, inputValues, startTeamsStack, type TeamsStack,
} from './helpers/teams.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { loadPrompt } from '../src/core/prompts.js';
import { PROPOSED_BY_FIELD, parseProposedBy } from '../src/core/proposals.js';
import { findForm } from '../src/core/reply.js';
import { HttpServer, addHealthRoutes } from '../src/http.js';
import { aiTools, auditEvents, people } from '../src/db/schema/index.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { Db } from '../src/db/client.js';
import { OPEN_FORM_ACTION_PATTERN, fieldBlockId } from '../adapters/slack/ids.js';

const OTTER = 'I started using Otter for meeting notes';
const PROMPT_VERSION = loadPrompt('propose-command').version;
const WAIT = { timeout: 15_000 };
const assistEnv = (fake: FakeOpenAi): Record<string, string> => ({
  OPENAI_API_KEY: 'sk-test-0123456789abcdefghij', OPENAI_BASE_URL: fake.baseUrl, OPENAI_MODEL: 'fake-model', OPENAI_TIMEOUT_MS: '20000',
});
const otterProposal = () => FakeOpenAi.proposal({ command: 'declare ai', fields: { tool: 'Otter', vendor: null, purpose: 'meeting notes', data: ['internal'], users: null } });

/** An app_mention event as the Events API delivers it: the bot's mention first, the text escaped as Slack escapes it. */
function appMention(who: string, channel: string, text: string, ts: string, threadTs?: string) {
  return {
    type: 'app_mention', client_msg_id: unique('msg'), user: who, text, ts, event_ts: ts, channel, team: 'T0TEST',
    ...(threadTs ? { thread_ts: threadTs } : {}),
  };
}

/** The audit events a confirmed proposal added beside what it wrote. */
const proposalEvents = (db: Db, ref: string) =>
  db.select().from(auditEvents).where(and(eq(auditEvents.entity, 'assistant_proposal'), eq(auditEvents.entityRef, ref)));

let fake: FakeOpenAi;
beforeAll(async () => { fake = await FakeOpenAi.start(); });
afterAll(async () => { await fake?.close(); });

describe('Slack: "@ISMS …" in a channel (app_mention over the real Bolt HTTP path)', () => {
  let w: SlackWorkspace;
  beforeEach(() => { fake.reset(); });
  afterEach(async () => { await w?.close(); });

  /** The Open button of a message, clicked as Slack sends the click on an ephemeral message (no message body). */
  async function openProposal(who: string, message: BotMessage) {
    const open = message.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.type === 'button' && OPEN_FORM_ACTION_PATTERN.test(e.action_id));
    const trigger = unique('trigger');
    const { message: _body, ...click } = w.clickPayload(who, message, open.text.text, unique('open'), trigger);
    await w.sender.interaction({ ...click, container: { ...click.container, is_ephemeral: true } });
    const update = await w.updateOf(await w.openedWith(trigger));
    return { ...update.args.view, id: update.args.view_id };
  }
  const ephemeralMessage = (call: SlackCall): BotMessage => ({
    channel: call.args.channel, ts: call.response!.message_ts, blocks: (call.args.blocks as any[]).map((b, i) => ({ block_id: `blk${i}`, ...b })),
  });

  it('answers only the person, ephemeral in the channel, with the proposed form; the submission records it with the prompt version and model', async () => {
    w = await SlackWorkspace.start(assistEnv(fake));
    fake.next(otterProposal());
    const response = await w.sender.event(appMention('USAM', 'CGENERAL', `<@UBOT> ${OTTER}`, '1700002000.000100'), 'EvMENTION1');
    expect(response.status).toBe(200);
    const ephemeral = await w.fake.waitForCall('chat.postEphemeral', () => true);
    expect(ephemeral.args).toMatchObject({ channel: 'CGENERAL', user: 'USAM' });
    expect(blockText(ephemeral.args.blocks)).toContain('Proposed from your message');
    // The channel hears nothing, and the mention itself did not reach the model.
    expect(w.fake.callsTo('chat.postMessage')).toEqual([]);
    expect(fake.requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: OTTER });
    expect(await w.t.db.select().from(aiTools)).toEqual([]);

    const view = await openProposal('USAM', ephemeralMessage(ephemeral));
    expect(JSON.stringify(view.blocks)).toContain('"initial_value":"Otter"');
    await w.sender.interaction(submission('USAM', view, { [fieldBlockId('tool')]: { value: 'Otter' }, [fieldBlockId('purpose')]: { value: 'meeting notes' } }));
    await vi.waitFor(async () => expect(await w.t.db.select().from(aiTools)).toHaveLength(1), WAIT);
    const [tool] = await w.t.db.select().from(aiTools);
    expect(tool).toMatchObject({ name: 'Otter', purpose: 'meeting notes', declaredBy: w.cast.staff.id });
    const [confirmed] = await proposalEvents(w.t.db, tool.ref);
    expect(confirmed).toMatchObject({
      action: 'confirm_proposal', actorId: w.cast.staff.id,
      after: { command: 'declare ai', proposedBy: { prompt: 'propose-command', version: PROMPT_VERSION, model: 'fake-model' } },
    });
  });

  it('answers a mention in a thread in that thread; a delivery Slack repeats is neither answered nor sent to the model again', async () => {
    w = await SlackWorkspace.start(assistEnv(fake));
    fake.next(otterProposal(), otterProposal());
    const mention = appMention('USAM', 'CGENERAL', `<@UBOT> ${OTTER}`, '1700002100.000200', '1700002100.000100');
    await w.sender.event(mention, 'EvMENTION2');
    const first = await w.fake.waitForCall('chat.postEphemeral', () => true);
    expect(first.args.thread_ts).toBe('1700002100.000100');
    const again = await w.sender.event(mention, 'EvMENTION2', { retryNum: 1 });
    expect(again.status).toBe(200);
    await w.logs.waitFor((l) => /mention again that was answered already/.test(l.msg));
    expect(w.fake.callsTo('chat.postEphemeral')).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('sends the proposal to the direct message when Slack refuses the ephemeral (the bot is not in the channel)', async () => {
    w = await SlackWorkspace.start(assistEnv(fake));
    w.fake.on('chat.postEphemeral', () => ({ ok: false, error: 'not_in_channel' }));
    fake.next(otterProposal());
    await w.sender.event(appMention('USAM', 'CPRIVATE', `<@UBOT> ${OTTER}`, '1700002200.000100'), 'EvMENTION3');
    const direct = await w.fake.waitForCall('chat.postMessage', () => true);
    expect(direct.args.channel).toBe('USAM');
    expect(blockText(direct.args.blocks)).toContain('Proposed from your message');
    expect(findOpen(postedMessage(direct))).toBeDefined();
  });

  it('sends the text the person meant: entities decoded, links as typed, other people\'s mentions and emails replaced', async () => {
    w = await SlackWorkspace.start(assistEnv(fake));
    fake.next(FakeOpenAi.proposal({ command: 'none' }));
    await w.sender.event(appMention('USAM', 'CGENERAL',
      '<@UBOT> we record calls with <https://otter.ai|otter.ai> &amp; share notes with <@UOLGA> and lena@test.example &lt;3', '1700002300.000100'), 'EvMENTION4');
    await w.fake.waitForCall('chat.postEphemeral', () => true);
    expect(fake.requests[0].body.messages.at(-1).content).toBe('we record calls with otter.ai & share notes with [name] and [email] <3');
  });

  it('without an endpoint, tells only the person how to use /isms, and asks no model', async () => {
    w = await SlackWorkspace.start();
    await w.sender.event(appMention('USAM', 'CGENERAL', `<@UBOT> ${OTTER}`, '1700002400.000100'), 'EvMENTION5');
    const ephemeral = await w.fake.waitForCall('chat.postEphemeral', () => true);
    expect(ephemeral.args).toMatchObject({ channel: 'CGENERAL', user: 'USAM' });
    expect(blockText(ephemeral.args.blocks)).toContain('Commands start with "/isms" — try "/isms help".');
    expect(w.fake.callsTo('chat.postMessage')).toEqual([]);
    expect(fake.requests).toEqual([]);
  });
});

const findOpen = (message: BotMessage) => message.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.type === 'button' && OPEN_FORM_ACTION_PATTERN.test(e.action_id));

describe('Teams: a channel message that @mentions the bot (the real teams-ai Application over HTTP)', () => {
  let stack: TeamsStack;
  beforeEach(() => { fake.reset(); });
  afterEach(async () => { await stack?.stop(); });

  const CHANNEL = '19:general@thread.tacv2;messageid=1700000000000';
  const post = async (activity: Record<string, unknown>) => expect((await stack.server.post({ ...activity, serviceUrl: stack.connector.url })).status).toBe(200);

  it('gets the proposal in the personal chat, never in the channel; a retry is not answered twice; the submission records the prompt version', async () => {
    stack = await startTeamsStack(assistEnv(fake));
    const { h, connector } = stack;
    fake.next(otterProposal(), otterProposal());
    const mention = channelMention('staff', OTTER);
    await post(mention);
    expect(connector.created).toHaveLength(1);
    const personal = connector.postedTo(connector.created[0].id);
    expect(personal).toHaveLength(1);
    const card = cardOf(personal[0].activity);
    expect(cardText(card)).toContain('Proposed from your message');
    expect(inputValues(card)).toMatchObject({ tool: 'Otter', purpose: 'meeting notes' });
    const channel = connector.postedTo(CHANNEL).map((p) => cardText(cardOf(p.activity)));
    expect(channel).toEqual(["Sam Staff, I've sent you the form in our personal chat."]);
    expect(JSON.stringify(connector.postedTo(CHANNEL))).not.toContain('Otter');
    expect(fake.requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: OTTER });

    // Teams delivers the same activity again.
    await post(mention);
    expect(connector.posted).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);

    await post(clickActivity('staff', card, 'Declare', { tool: 'Otter', purpose: 'meeting notes' },
      { conversation: { id: connector.created[0].id, conversationType: 'personal', tenantId: 'tenant-1', isGroup: false, name: '' } }));
    const [tool] = await h.t.db.select().from(aiTools);
    expect(tool).toMatchObject({ name: 'Otter', declaredBy: h.ids.staff });
    const [confirmed] = await proposalEvents(h.t.db, tool.ref);
    expect(confirmed.after).toEqual({ command: 'declare ai', proposedBy: { prompt: 'propose-command', version: PROMPT_VERSION, model: 'fake-model' } });
  });

  it('works when Teams leaves out the mention entity and the conversation type (a group chat)', async () => {
    stack = await startTeamsStack(assistEnv(fake));
    const { connector } = stack;
    fake.next(otterProposal());
    const bare = channelMention('staff', `&nbsp;${OTTER}`, {
      entities: undefined,
      conversation: { id: '19:group-chat@thread.v2', isGroup: true, tenantId: 'tenant-1' } as any,
    });
    await post(bare);
    expect(fake.requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: OTTER });
    expect(connector.created).toHaveLength(1);
    expect(cardText(cardOf(connector.postedTo(connector.created[0].id)[0].activity))).toContain('Proposed from your message');
    expect(connector.postedTo('19:group-chat@thread.v2').map((p) => cardText(cardOf(p.activity))))
      .toEqual(["Sam Staff, I've sent you the form in our personal chat."]);
  });

  it('without an endpoint, a typed command in the channel still runs as before, answered in the personal chat', async () => {
    stack = await startTeamsStack();
    const { connector, h } = stack;
    await post(channelMention('staff', 'declare ai Copilot --vendor Microsoft'));
    expect(cardText(cardOf(connector.postedTo(connector.created[0].id)[0].activity))).toContain('Recorded Copilot in the AI register');
    expect(fake.requests).toEqual([]);
    expect(await proposalEvents(h.t.db, 'AI-0001')).toEqual([]);
  });
});

describe('which prompt proposed an entry: a hidden form value, taken only in its known shape', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('accepts "<prompt>/<version> <model>" of a proposing prompt, and nothing else', () => {
    expect(parseProposedBy('propose-command/1 gpt-4o-mini')).toEqual({ prompt: 'propose-command', version: 'propose-command/1', model: 'gpt-4o-mini' });
    expect(parseProposedBy('propose-command/12 meta-llama/Llama-3.1-8B:q4')).toMatchObject({ model: 'meta-llama/Llama-3.1-8B:q4' });
    for (const bad of ['summarise-evidence/1 m', 'propose-command/1', 'propose-command/x m', 'propose-command/1 m; drop', 'propose-command/1 m\nx', 42, { prompt: 'x' }]) {
      expect(parseProposedBy(bad)).toBeUndefined();
    }
  });

  it('records a well-formed value beside the write and changes nothing it wrote; a malformed value or a typed command records none', async () => {
    const actor = await bot.actor('staff');
    const submit = (tool: string, value?: unknown) => bot.router.submit('declare ai',
      { tool, purpose: 'meeting notes', ...(value === undefined ? {} : { [PROPOSED_BY_FIELD]: value }) }, { actor, channel: 'test' });
    await submit('Otter', 'propose-command/1 fake-model');
    await submit('Fireflies', '{"declaredBy":1}');
    await submit('Grain');
    await bot.say('staff', '/isms declare ai Tactiq "meeting notes"');
    const tools = await bot.t.db.select().from(aiTools).orderBy(aiTools.ref);
    expect(tools.map((t) => [t.name, t.purpose, t.declaredBy])).toEqual([
      ['Otter', 'meeting notes', bot.ids.staff], ['Fireflies', 'meeting notes', bot.ids.staff],
      ['Grain', 'meeting notes', bot.ids.staff], ['Tactiq', 'meeting notes', bot.ids.staff],
    ]);
    const confirmed = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entity, 'assistant_proposal'));
    expect(confirmed.map((e) => [e.entityRef, e.actorId])).toEqual([['AI-0001', bot.ids.staff]]);
    // The write's own events hold the same fields with or without it.
    const declared = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'declare')).orderBy(auditEvents.seq);
    const shape = (after: unknown) => Object.keys(after as object).sort().join();
    expect(declared.map((e) => shape(e.after))).toEqual(Array(4).fill(shape(declared[0].after)));
  });

  it('the assistant puts it in the form it proposes', async () => {
    fake.reset();
    const core = assembleCore(loadConfig({ ISMS_EXAMPLE_ORG: 'false', ...assistEnv(fake) }), createLogger('silent'), bot.t);
    fake.next(otterProposal());
    const [person] = await bot.t.db.select().from(people).where(eq(people.id, bot.ids.staff));
    const { reply } = await core.inbound.handle({ from: { person }, channel: 'shell', request: { message: OTTER } });
    expect(findForm(reply)?.hidden).toEqual({ [PROPOSED_BY_FIELD]: `${PROMPT_VERSION} fake-model` });
  });
});

/** The value of one counter in the Prometheus text, its labels in any order; 0 when absent. */
function counter(metrics: string, name: string, labels: Record<string, string>): number {
  for (const line of metrics.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe('metrics and log lines of calls to the endpoint', () => {
  let w: SlackWorkspace;
  let http: HttpServer;
  let metricsUrl: string;
  beforeEach(async () => {
    fake.reset();
    w = await SlackWorkspace.start(assistEnv(fake));
    http = new HttpServer(() => undefined);
    addHealthRoutes(http, async () => undefined);
    metricsUrl = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}/metrics`;
  });
  afterEach(async () => {
    await http.close();
    await w.close();
  });
  const scrape = async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    return res.text();
  };
  const answered = { prompt: 'propose-command', outcome: 'answered' };
  const unavailable = { prompt: 'propose-command', outcome: 'unavailable' };
  const tokens = (kind: string) => ({ prompt: 'propose-command', kind });

  it('a proposal through the Slack endpoint counts an answered call and its tokens; a failing endpoint counts as unavailable', async () => {
    const before = await scrape();
    fake.next(otterProposal());
    await w.sender.event(appMention('USAM', 'CGENERAL', `<@UBOT> ${OTTER}`, '1700003000.000100'), 'EvMETRICS1');
    await w.fake.waitForCall('chat.postEphemeral', () => true);
    const after = await scrape();
    expect(counter(after, 'isms_assistant_calls_total', answered) - counter(before, 'isms_assistant_calls_total', answered)).toBe(1);
    expect(counter(after, 'isms_assistant_tokens_total', tokens('prompt')) - counter(before, 'isms_assistant_tokens_total', tokens('prompt'))).toBe(321);
    expect(counter(after, 'isms_assistant_tokens_total', tokens('completion')) - counter(before, 'isms_assistant_tokens_total', tokens('completion'))).toBe(45);

    fake.next({ status: 500 });
    await w.sender.event(appMention('USAM', 'CGENERAL', `<@UBOT> ${OTTER}`, '1700003000.000200'), 'EvMETRICS2');
    await w.fake.waitFor('chat.postEphemeral', 2);
    const failed = await scrape();
    expect(counter(failed, 'isms_assistant_calls_total', unavailable) - counter(after, 'isms_assistant_calls_total', unavailable)).toBe(1);
    expect(counter(failed, 'isms_assistant_calls_total', answered)).toBe(counter(after, 'isms_assistant_calls_total', answered));
  });

  it('logs each call at info level with its prompt version and token usage, never the message', async () => {
    fake.next(otterProposal(), { status: 429 });
    await w.sender.event(appMention('USAM', 'CGENERAL', `<@UBOT> ${OTTER}`, '1700003100.000100'), 'EvLOG1');
    await w.sender.event(appMention('USAM', 'CGENERAL', '<@UBOT> Fireflies now records our sales calls', '1700003100.000200'), 'EvLOG2');
    await w.fake.waitFor('chat.postEphemeral', 2);
    const call = await w.logs.waitFor((l) => l.msg === 'assistant call');
    expect(call).toMatchObject({ level: 30, promptVersion: PROMPT_VERSION, promptTokens: 321, completionTokens: 45 });
    const failure = await w.logs.waitFor((l) => /assistant unavailable/.test(l.msg));
    expect(failure).toMatchObject({ level: 40, status: 429, promptVersion: PROMPT_VERSION });
    const infoAndAbove = w.logs.lines.filter((l) => l.level >= 30).map((l) => JSON.stringify(l)).join('\n');
    for (const content of ['Otter', 'meeting notes', 'Fireflies', 'sales calls']) expect(infoAndAbove).not.toContain(content);
  });
});
