/**
 * Slack's documented limits, which the fake enforces as Slack does: a response_url takes 5 posts
 * within 30 minutes (then 404 used_url / expired_url), a trigger_id opens one modal within 3 seconds
 * (expired_trigger_id), a closed modal cannot be updated (not_found), a channel may refuse a post
 * (archived, without the bot, the person not in it), and Block Kit's limits (invalid_blocks). Time
 * passes on the fake's own clock, never by waiting.
 * One workspace for the file; each test uses its own commands, triggers and response ids.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BOT_TOKEN, SlackWorkspace, blockText, findButton, postedMessage, unique } from './helpers/fake-slack-workspace.js';
import { formBlock, reply, text } from '../src/core/reply.js';
import { RespondError, webApi, type RespondFn } from '@slack/bolt';
import { SlackApi } from '../adapters/slack/api.js';
import { respondOrElse } from '../adapters/slack/answers.js';
import { createLogger } from '../src/log.js';
import type { SlackCall } from './helpers/fake-slack.js';
import { people, risks } from '../src/db/schema/index.js';
import { createTestDatabase } from './helpers/db.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { FORM_VIEW } from '../adapters/slack/ids.js';

let w: SlackWorkspace;

beforeAll(async () => {
  w = await SlackWorkspace.start();
  await w.t.db.insert(risks).values([
    { ref: 'R-0001', title: 'Laptop theft', likelihood: 3, impact: 4, inherentScore: 12, residualScore: 6, treatment: 'mitigate', ownerId: w.cast.lead.id },
  ]);
});

afterEach(() => {
  w.fake.clearFailures();
});

afterAll(async () => {
  await w?.close();
});

const WENT_WRONG = /went wrong|could not be shown/i;
const MINUTE = 60_000;

/** Direct messages the bot posted to a person (a chat.postMessage to their user id). */
const directMessagesTo = (user: string) => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === user);

/** Posts to one response_url, and what Slack answered each. */
const postsTo = (responseId: string) => w.fake.callsTo('response_url').filter((c) => c.args.id === responseId);

/** A message the bot showed through a response_url, as a click on it would carry it. */
const shownMessage = (call: SlackCall) => ({ channel: 'CGENERAL', ts: '1700000000.000100', blocks: (call.args.blocks as any[]).map((b, i) => ({ block_id: `blk${i}`, ...b })) });

describe('a response_url Slack no longer takes', () => {
  it('an answer that comes more than 30 minutes after the command reaches the person once, as a direct message', async () => {
    const id = unique('late');
    const command = w.slashCommand('ULENA', 'risks', id);
    // The command waited past Slack's 30 minutes (a busy database): its response_url has expired.
    w.fake.advance(31 * MINUTE);
    const before = directMessagesTo('ULENA').length;
    await w.sender.command(command);
    const dm = await w.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'ULENA' && blockText(c.args.blocks ?? []).includes('R-0001'));
    expect(blockText(dm.args.blocks)).toContain('Laptop theft');
    expect(postsTo(id).map((c) => [c.status, c.response?.said])).toEqual([[404, 'expired_url']]);
    expect(directMessagesTo('ULENA').slice(before)).toHaveLength(1);
    expect(blockText(dm.args.blocks)).not.toMatch(WENT_WRONG);
  });

  it('an answer to a response_url already used 5 times reaches the person once, as a direct message', async () => {
    const id = unique('used');
    const command = w.slashCommand('USAM', 'status', id);
    for (let i = 0; i < 5; i++) await fetch(w.fake.responseUrl(id), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `earlier ${i}` }) });
    const before = directMessagesTo('USAM').length;
    await w.sender.command(command);
    await w.fake.waitForCall('response_url', (c) => c.args.id === id && c.status === 404);
    const dm = await vi.waitFor(() => {
      const sent = directMessagesTo('USAM').slice(before);
      expect(sent).not.toHaveLength(0);
      return sent[0];
    }, { timeout: 15_000 });
    expect(postsTo(id).at(-1)!.response?.said).toBe('used_url');
    expect(dm.args.text).not.toMatch(WENT_WRONG);
    expect(directMessagesTo('USAM').slice(before)).toHaveLength(1);
  });

  it('a long export: the file comes, and its answer, due after the response_url expired, comes as a direct message instead of "something went wrong"', async () => {
    const id = unique('export');
    const release = w.fake.hold('files.getUploadURLExternal');
    try {
      await w.sender.command(w.slashCommand('ULENA', 'export risks csv', id));
      await vi.waitFor(() => expect(w.fake.waitingOn('files.getUploadURLExternal')).toBe(1), { timeout: 15_000 });
      // The upload took longer than the response_url lives.
      w.fake.advance(31 * MINUTE);
    } finally {
      release();
    }
    const dm = await w.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'ULENA' && blockText(c.args.blocks ?? []).includes('Exported Risk register'));
    expect(blockText(dm.args.blocks)).toContain('to your direct messages with me');
    expect(postsTo(id).map((c) => c.status)).toEqual([404]);
    expect(w.fake.sharedFiles().filter((f) => f.filename.startsWith('risks-') && f.shared?.channel === 'DLENA').length).toBeGreaterThan(0);
    expect(w.logs.lines.some((l) => l.slackMethod === 'response_url' && l.level === 50)).toBe(false);
  });
});

describe('a public answer whose response_url Slack no longer takes', () => {
  /** Bolt's respond, on the fake's response_url; and the fallback around it. */
  const publicAnswer = (id: string, channel: string) => {
    const url = w.fake.responseUrl(id);
    const respond: RespondFn = async (message) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
      if (!response.ok) throw new RespondError(`Failed to respond to the response_url: ${response.status}`, response.status);
      return response;
    };
    const api = new SlackApi(new webApi.WebClient(BOT_TOKEN, { slackApiUrl: w.fake.apiUrl, retryConfig: { retries: 0 } }), createLogger('silent'), BOT_TOKEN);
    return respondOrElse(api, respond, { kind: 'test' }, { user: 'ULENA', channel });
  };

  it('goes into the channel it was asked in, once', async () => {
    const id = unique('public');
    const answer = publicAnswer(id, 'C0PUBLIC1');
    w.fake.advance(31 * MINUTE);
    await answer({ response_type: 'in_channel', text: 'Risk appetite proposed', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Risk appetite proposed' } }] });
    expect(postsTo(id).map((c) => c.status)).toEqual([404]);
    expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.text === 'Risk appetite proposed').map((c) => c.args.channel)).toEqual(['C0PUBLIC1']);
  });

  it('comes as a direct message when the channel does not take the bot\'s post either', async () => {
    const id = unique('public');
    w.fake.channelState('C0PUBLIC2', 'not_in_channel');
    const answer = publicAnswer(id, 'C0PUBLIC2');
    w.fake.advance(31 * MINUTE);
    await answer({ response_type: 'in_channel', text: 'Finding recorded' });
    expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.text === 'Finding recorded').map((c) => [c.args.channel, c.response?.ok ?? c.response?.error]))
      .toEqual([['C0PUBLIC2', false], ['ULENA', true]]);
  });
});

describe('a form asked for while the bot was slow (trigger_id expired after 3 seconds)', () => {
  it('comes back as a message with a button that opens the form, and the button opens it', async () => {
    const id = unique('slow-form');
    const trigger = unique('trigger');
    const command = w.slashCommand('ULENA', 'risk add', id, trigger);
    w.fake.advance(4_000);
    await w.sender.command(command);
    const answer = await w.responseTo(id);
    expect(w.fake.callsTo('views.open').filter((c) => c.args.trigger_id === trigger).map((c) => c.response?.error)).toEqual(['expired_trigger_id']);
    expect(blockText(answer.args.blocks)).not.toMatch(WENT_WRONG);
    const { button } = findButton(answer.args.blocks, 'Open: Add a risk');
    expect(button.type).toBe('button');

    // The button works: its click has a fresh trigger.
    const clickTrigger = unique('trigger');
    await w.sender.interaction(w.clickPayload('ULENA', shownMessage(answer), 'Open: Add a risk', unique('open'), clickTrigger));
    const opened = await w.openedWith(clickTrigger);
    expect(opened.response?.ok).toBe(true);
    const form = await w.updateOf(opened);
    expect(form.response?.ok).toBe(true);
    expect(form.args.view.callback_id).toBe(FORM_VIEW);
    // The threat menu: the 15 threats of the catalogue, each a valid option.
    const menu = form.args.view.blocks.flatMap((b: any) => (b.element?.options ? [b.element.options] : []));
    expect(menu.some((options: any[]) => options.length === 15)).toBe(true);
  });

  it('a form whose "Preparing…" modal the person closed comes back as a message with its button, not "something went wrong"', async () => {
    const id = unique('closed-form');
    const trigger = unique('trigger');
    w.fake.closeViewOpenedWith(trigger);
    await w.sender.command(w.slashCommand('ULENA', 'risk add', id, trigger));
    const answer = await w.responseTo(id);
    const opened = await w.openedWith(trigger);
    expect((await w.updateOf(opened)).response?.error).toBe('not_found');
    expect(blockText(answer.args.blocks)).not.toMatch(WENT_WRONG);
    expect(findButton(answer.args.blocks, 'Open: Add a risk').button.type).toBe('button');
  });
});

describe('a proposed form\'s "Open" button clicked while the bot was slow (trigger_id expired)', () => {
  it('comes back as a message whose button still carries the proposed values, so nothing the person was offered is lost', async () => {
    // A proposal as the bot sends one: the form with its fields filled in.
    await w.slack.port.send(await w.person('lead'), reply(text('Shall I add this risk?'), formBlock({
      title: 'Add a risk', command: 'risk add', fields: [{ name: 'title', label: 'Title', type: 'text', initial: 'Printer room left unlocked' }],
    })));
    const message = postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!);
    const id = unique('slow-open');
    const click = w.clickPayload('ULENA', message, 'Open: Add a risk', id);
    w.fake.advance(4_000);
    await w.sender.interaction(click);
    const answer = await w.responseTo(id);
    expect(w.fake.callsTo('views.open').filter((c) => c.args.trigger_id === click.trigger_id).map((c) => c.response?.error)).toEqual(['expired_trigger_id']);
    expect(blockText(answer.args.blocks)).not.toMatch(WENT_WRONG);
    const { button } = findButton(answer.args.blocks, 'Open: Add a risk');
    expect(JSON.parse(button.value)).toMatchObject({ command: 'risk add', initial: { title: 'Printer room left unlocked' } });
  });
});

describe('"@ISMS …" in a channel where Slack refuses the private answer', () => {
  let mentions = 0;
  it.each([
    ['the channel was archived', 'is_archived' as const],
    ['the channel is private and the bot not in it', 'channel_not_found' as const],
    ['the bot is not a member of the channel', 'not_in_channel' as const],
    ['the person is not in the channel (a mention in a thread they follow)', { members: ['ULENA'] }],
  ])('%s: the answer comes once as a direct message, and nothing is tried again', async (_, state) => {
    const channel = unique('C0REF').toUpperCase().replace(/-/g, '');
    w.fake.channelState(channel, state);
    const ts = `1700007${String(++mentions).padStart(3, '0')}.000100`;
    const before = directMessagesTo('UOLGA').length;
    await w.sender.event({ type: 'app_mention', user: 'UOLGA', text: '<@UBOT> where do I report a lost laptop?', ts, event_ts: ts, channel, team: 'T0TEST' }, unique('EvRefused'));
    const dm = await vi.waitFor(() => {
      const sent = directMessagesTo('UOLGA').slice(before);
      expect(sent).toHaveLength(1);
      return sent[0];
    }, { timeout: 15_000 });
    expect(dm.response).toMatchObject({ ok: true });
    expect(w.fake.callsTo('chat.postEphemeral').filter((c) => c.args.channel === channel).map((c) => c.response?.error))
      .toEqual([typeof state === 'string' ? state : 'user_not_in_channel']);
    await w.bot.inFlight.settled(15_000);
    expect(directMessagesTo('UOLGA').slice(before)).toHaveLength(1);
  });
});

describe('the bot\'s largest messages and forms, on the example organisation, stay within Block Kit\'s limits', () => {
  let big: SlackWorkspace;
  const LONG_NAME = `Maximiliane ${'Alexandra-Konstantina '.repeat(8)}von und zu Hohenzollern-Sigmaringen-Wittelsbach`;

  beforeAll(async () => {
    const database = await createTestDatabase();
    await loadExampleOrganisation(database.db);
    big = await SlackWorkspace.start({}, database);
    const [owner] = await big.t.db.insert(people).values({ name: LONG_NAME, email: 'maximiliane@test.example', roles: ['staff'], slackUserId: 'ULONGNAME' }).returning();
    await big.t.db.insert(risks).values({
      ref: 'R-9001', title: `Supplier outage ${'affecting settlement, reconciliation and reporting '.repeat(6)}`.trim(), likelihood: 3, impact: 5, inherentScore: 15, residualScore: 10,
      treatment: 'mitigate', ownerId: owner.id,
    });
  });

  afterAll(async () => {
    await big?.close();
  });

  it.each([
    'help', 'status', 'risks', 'soa ISO27001:2022', 'soa nist-csf-2.0', 'coverage ISO27001:2022', 'coverage NIST-CSF-2.0', 'threats', 'assets',
    'parties', 'policies', 'poam', 'evidence', 'findings', 'reviews', 'approvals', 'nudges', 'evidence review', 'training report',
  ])('"/isms %s" for the ISMS lead is taken by Slack', async (line) => {
    const id = unique('big');
    await big.sender.command(big.slashCommand('ULENA', line, id));
    const answer = await big.responseTo(id);
    expect(answer.status, JSON.stringify(answer.args).slice(0, 500)).toBe(200);
    expect(blockText(answer.args.blocks)).not.toMatch(WENT_WRONG);
    expect(big.fake.callsTo('response_url').filter((c) => c.args.id === id)).toHaveLength(1);
  });

  it('a risk owned by someone with a very long name is listed, and the App Home of the ISMS lead is published', async () => {
    const id = unique('big');
    await big.sender.command(big.slashCommand('ULENA', 'risks', id));
    expect((await big.responseTo(id)).status).toBe(200);
    await big.sender.event({ type: 'app_home_opened', user: 'ULENA', channel: 'DLENA', tab: 'home', event_ts: '1700000000.000100' }, unique('EvHome'));
    const home = await big.fake.waitForCall('views.publish', (c) => c.args.user_id === 'ULENA');
    expect(home.response, JSON.stringify(home.response)).toMatchObject({ ok: true });
  });

  it.each(['soa', 'coverage', 'risk appetite', 'risk add', 'asset add', 'party add', 'finding add', 'declare ai', 'declare supplier', 'request', 'evidence submit', 'policy add', 'export'])(
    'the form of "%s" opens as a modal Slack takes', async (line) => {
      const trigger = unique('trigger');
      await big.sender.command(big.slashCommand('ULENA', line, unique('form'), trigger));
      const update = await big.updateOf(await big.openedWith(trigger));
      expect(update.response, JSON.stringify(update.response)).toMatchObject({ ok: true });
    });

  it('a long evidence text (20,000 characters) is shown whole, over several sections', async () => {
    const { ref, request } = await big.evidenceRequest('staff', 'CTL-LONG-01');
    const said = Array.from({ length: 400 }, (_, i) => `Line ${i + 1}: the backup of the settlement database was restored and checked.`).join('\n').slice(0, 20_000);
    await big.sender.event({ type: 'message', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: said, ts: '1700006000.000100', event_ts: '1700006000.000100', thread_ts: request.ts }, unique('EvLong'));
    const recorded = await big.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
    expect(recorded.response).toMatchObject({ ok: true });
    const id = unique('show');
    await big.sender.command(big.slashCommand('ULENA', `evidence show ${ref}`, id));
    const answer = await big.responseTo(id);
    expect(answer.status).toBe(200);
    expect(blockText(answer.args.blocks)).toContain('Line 250:');
  });
});

describe('the fake Slack refuses what Slack documents it refuses, so the checks above mean something', () => {
  const call = async (method: string, args: Record<string, unknown>) => {
    const response = await fetch(`${w.fake.apiUrl}${method}`, { method: 'POST', headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(args) });
    return response.json() as Promise<{ ok: boolean; error?: string }>;
  };
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const button = (value = 'v', label = 'Go') => ({ type: 'button', text: { type: 'plain_text', text: label }, action_id: unique('a'), value });
  const select = (optionText: string, n = 1) => ({
    type: 'input', label: { type: 'plain_text', text: 'Threat' },
    element: { type: 'static_select', action_id: 'x', options: Array.from({ length: n }, (_, i) => ({ text: { type: 'plain_text', text: optionText }, value: `v${i}` })) },
  });
  const modal = (blocks: unknown[], title = 'Add a risk') => ({ type: 'modal', title: { type: 'plain_text', text: title }, blocks });

  it.each([
    ['51 blocks in a message', 'chat.postMessage', { channel: 'ULENA', text: 't', blocks: Array.from({ length: 51 }, () => section('x')) }, 'invalid_blocks'],
    ['a section text of 3001 characters', 'chat.postMessage', { channel: 'ULENA', text: 't', blocks: [section('x'.repeat(3001))] }, 'invalid_blocks'],
    ['a button value of 2001 characters', 'chat.postEphemeral', { channel: 'CGENERAL', user: 'ULENA', text: 't', blocks: [{ type: 'actions', elements: [button('v'.repeat(2001))] }] }, 'invalid_blocks'],
    ['26 buttons in one actions block', 'chat.update', { channel: 'DLENA', ts: '1.2', text: 't', blocks: [{ type: 'actions', elements: Array.from({ length: 26 }, () => button()) }] }, 'invalid_blocks'],
    ['a message text of 40,001 characters', 'chat.postMessage', { channel: 'ULENA', text: 'x'.repeat(40_001) }, 'msg_too_long'],
    ['an option text of 76 characters', 'views.publish', { user_id: 'ULENA', view: { type: 'home', blocks: [select('o'.repeat(76))] } }, 'invalid_blocks'],
    ['101 options in a menu', 'views.publish', { user_id: 'ULENA', view: { type: 'home', blocks: [select('o', 101)] } }, 'invalid_blocks'],
    ['101 blocks in a modal', 'views.open', { trigger_id: unique('trigger'), view: modal(Array.from({ length: 101 }, () => section('x'))) }, 'invalid_blocks'],
    ['a modal title of 25 characters', 'views.open', { trigger_id: unique('trigger'), view: modal([section('x')], 't'.repeat(25)) }, 'invalid_arguments'],
  ])('%s', async (_, method, args, error) => {
    expect(await call(method, args)).toEqual({ ok: false, error });
  });

  it('and takes what is just within the limits', async () => {
    const blocks = [...Array.from({ length: 47 }, () => section('x'.repeat(3000))), { type: 'actions', elements: Array.from({ length: 25 }, () => button('v'.repeat(2000), 'b'.repeat(75))) }, select('o'.repeat(75), 100)];
    expect(await call('chat.postMessage', { channel: 'ULENA', text: 'x'.repeat(40_000), blocks: [...blocks, section('x')] })).toMatchObject({ ok: true });
    expect(await call('views.open', { trigger_id: unique('trigger'), view: modal([...blocks, ...Array.from({ length: 51 }, () => section('x'))], 't'.repeat(24)) })).toMatchObject({ ok: true });
  });
});
