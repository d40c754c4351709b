import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import type { TestDatabase } from './helpers/db.js';
import type { FakeSlack, SlackCall } from './helpers/fake-slack.js';
import { SlackSender } from './helpers/slack-sign.js';
import {
  BOT_TOKEN, CAST, SECRET, SlackWorkspace, blockText, findButton, postedMessage, retryConfig, submission, unique,
  type BotMessage, type Cast, type LogSink, type Who,
} from './helpers/fake-slack-workspace.js';
import { addControl, addPolicy, addPolicyVersion, leftInDownloads, storedFileBytes } from './helpers/fixtures.js';
import { MAX_EVIDENCE_FILE_BYTES } from '../src/core/attachments.js';
import { HttpServer } from '../src/http.js';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { assembleCore, type Core } from '../src/app.js';
import { deliverDue } from '../src/core/delivery.js';
import { DeliveryError } from '../src/core/port.js';
import { reply, text, actions } from '../src/core/reply.js';
import {
  aiTools, auditEvents, evidenceItems, evidenceRequests, messageLinks, people, policyAcknowledgements,
} from '../src/db/schema/index.js';
import { attachSlack, type AttachedSlack } from '../adapters/slack/slack.js';
import { EVENTS_PATH, FORM_VIEW, LOADING_VIEW, fieldBlockId } from '../adapters/slack/ids.js';

let w: SlackWorkspace;
let t: TestDatabase;
let fake: FakeSlack;
let logs: LogSink;
let slack: AttachedSlack;
let sender: SlackSender;
let cast: Record<Who, Cast>;

beforeAll(async () => {
  w = await SlackWorkspace.start();
  ({ t, fake, logs, slack, sender, cast } = w);
});

afterAll(async () => {
  await w?.close();
});

const buildCore = (env: Record<string, string>): Core => w.core(env);
const slashCommand = (who: string, typed: string, responseId: string, triggerId?: string) => w.slashCommand(who, typed, responseId, triggerId);
const clickPayload = (who: string, message: BotMessage, label: string, responseId: string, triggerId?: string) =>
  w.clickPayload(who, message, label, responseId, triggerId);
const responseTo = (id: string) => w.responseTo(id);
const openedWith = (trigger: string) => w.openedWith(trigger);
const updateOf = (opened: SlackCall) => w.updateOf(opened);
const auditCount = () => w.auditCount();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('starting', () => {
  it('stops with Slack\'s reason when the bot token is refused, without showing the token', async () => {
    fake.on('auth.test', () => ({ ok: false, error: 'invalid_auth' }));
    const error = await attachSlack(buildCore({ SLACK_SIGNING_SECRET: SECRET }), new HttpServer(() => undefined), { retryConfig }).catch((e) => e);
    fake.off('auth.test');
    expect(error.message).toMatch(/Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/);
    expect(error.message).not.toContain(BOT_TOKEN);
  });
});

describe('Slack requests are verified', () => {
  it('refuses a forged signature with 401 and runs nothing', async () => {
    const before = await auditCount();
    const response = await sender.command(slashCommand('USAM', 'declare ai Forged', 'forged'), { secret: 'not-the-secret' });
    expect(response.status).toBe(401);
    expect(await auditCount()).toBe(before);
    expect((await t.db.select().from(aiTools)).filter((r) => r.name === 'Forged')).toHaveLength(0);
  });

  it('refuses a request signed more than five minutes ago (a replay) with 401', async () => {
    const before = await auditCount();
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const response = await sender.command(slashCommand('USAM', 'declare ai Replayed', 'stale'), { timestamp: sixMinutesAgo });
    expect(response.status).toBe(401);
    expect(await auditCount()).toBe(before);
    expect((await t.db.select().from(aiTools)).filter((r) => r.name === 'Replayed')).toHaveLength(0);
  });
});

describe('/isms slash command', () => {
  it('records "declare ai" typed inline and answers only the person who typed it', async () => {
    const response = await sender.command(slashCommand('USAM', 'declare ai ChatGPT "drafting emails" --vendor OpenAI', 'declare-inline'));
    expect(response.status).toBe(200);
    const answer = await responseTo('declare-inline');
    expect(answer.args.response_type).toBe('ephemeral');
    expect(blockText(answer.args.blocks)).toMatch(/Recorded ChatGPT in the AI register as AI-\d{4}/);
    expect(answer.args.text).toContain('Recorded ChatGPT');
    const [tool] = await t.db.select().from(aiTools).where(eq(aiTools.name, 'ChatGPT'));
    expect(tool).toMatchObject({ vendor: 'OpenAI', purpose: 'drafting emails', declaredBy: cast.staff.id });
    expect(blockText(answer.args.blocks)).toContain(tool.ref);
  });

  it('opens a modal at once for a command without arguments, then fills in its form', async () => {
    const trigger = unique('trigger');
    await sender.command(slashCommand('USAM', 'declare ai', 'declare-form', trigger));
    const open = await openedWith(trigger);
    const update = await updateOf(open);
    expect(open.args.view.callback_id).toBe(LOADING_VIEW);
    expect(fake.calls.indexOf(open)).toBeLessThan(fake.calls.indexOf(update));
    expect(update.args.view_id).toBe(open.response!.view.id);
    const view = update.args.view;
    expect(view.callback_id).toBe(FORM_VIEW);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ command: 'declare ai' });
    const elements = Object.fromEntries(view.blocks.map((b: any) => [b.block_id, b.element.type]));
    expect(elements).toEqual({
      [fieldBlockId('tool')]: 'plain_text_input',
      [fieldBlockId('vendor')]: 'plain_text_input',
      [fieldBlockId('purpose')]: 'plain_text_input',
      [fieldBlockId('data')]: 'multi_static_select',
      [fieldBlockId('users')]: 'number_input',
    });
    expect(view.blocks.find((b: any) => b.block_id === fieldBlockId('tool')).optional).toBe(false);
    expect(view.blocks.find((b: any) => b.block_id === fieldBlockId('purpose')).element.multiline).toBe(true);
    // Nothing was recorded by opening a form.
    expect(fake.callsTo('response_url').find((c) => c.args.id === 'declare-form')).toBeUndefined();
  });

  it('tells someone outside the register that they are not in it and whom to ask', async () => {
    const before = await auditCount();
    await sender.command(slashCommand('USTRANGER', 'declare ai Shadow', 'stranger'));
    const answer = await responseTo('stranger');
    expect(answer.args.response_type).toBe('ephemeral');
    const said = blockText(answer.args.blocks);
    expect(said).toContain('You are not in the ISMS register');
    expect(said).toContain('stranger@elsewhere.example');
    expect(said).toContain('Lena Lead');
    expect(await auditCount()).toBe(before);
    expect((await t.db.select().from(aiTools)).filter((r) => r.name === 'Shadow')).toHaveLength(0);
  });

  it('finds a person by their Slack email, stores their Slack id once, and audits it', async () => {
    await sender.command(slashCommand('UEVE', 'help', 'eve-help'));
    const answer = await responseTo('eve-help');
    expect(blockText(answer.args.blocks)).toContain('Hello Eve Email');
    const [eve] = await t.db.select().from(people).where(eq(people.id, cast.eve.id));
    expect(eve.slackUserId).toBe('UEVE');
    // Her nudges follow Slack's timezone for her, since the register had none.
    expect(eve.timezone).toBe('America/Chicago');
    const linked = await t.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'link_slack_user'), eq(auditEvents.entityRef, CAST.eve.email)));
    expect(linked).toHaveLength(1);
    const lookups = fake.callsTo('users.info').filter((c) => c.args.user === 'UEVE').length;
    await sender.command(slashCommand('UEVE', 'help', 'eve-help-again'));
    await responseTo('eve-help-again');
    expect(fake.callsTo('users.info').filter((c) => c.args.user === 'UEVE')).toHaveLength(lookups);
  });
});

describe('form modals', () => {
  it('records a submitted form and shows the result in the modal', async () => {
    const trigger = unique('trigger');
    await sender.command(slashCommand('USAM', 'declare ai', 'form-submit', trigger));
    const update = await updateOf(await openedWith(trigger));
    const before = await auditCount();
    const response = await sender.interaction(submission('USAM', { ...update.args.view, id: update.args.view_id, hash: update.response!.view.hash }, {
      [fieldBlockId('tool')]: { value: 'Claude' },
      [fieldBlockId('data')]: { selected_options: [{ text: { type: 'plain_text', text: 'personal data' }, value: 'personal' }] },
      [fieldBlockId('users')]: { value: '3' },
    }));
    expect(response.status).toBe(200);
    const answer = response.json();
    expect(answer.response_action).toBe('update');
    const [tool] = await t.db.select().from(aiTools).where(eq(aiTools.name, 'Claude'));
    expect(tool).toMatchObject({ dataCategories: ['personal'], userCount: 3, declaredBy: cast.staff.id });
    expect(blockText(answer.view.blocks)).toContain(`Recorded Claude in the AI register as ${tool.ref}`);
    expect(await auditCount()).toBe(before + 2);
  });

  it('puts a validation error on its field, keeps the modal open and records nothing', async () => {
    const trigger = unique('trigger');
    await sender.command(slashCommand('USAM', 'declare ai', 'form-invalid', trigger));
    const update = await updateOf(await openedWith(trigger));
    const before = await auditCount();
    const response = await sender.interaction(submission('USAM', { ...update.args.view, id: update.args.view_id }, {
      [fieldBlockId('tool')]: { value: 'Gemini' },
      [fieldBlockId('users')]: { value: '0' },
    }));
    const answer = response.json();
    expect(answer.response_action).toBe('errors');
    expect(answer.errors).toEqual({ [fieldBlockId('users')]: 'must be at least 1' });
    expect(await auditCount()).toBe(before);
    expect((await t.db.select().from(aiTools)).filter((r) => r.name === 'Gemini')).toHaveLength(0);
  });
});

describe('buttons', () => {
  let policyRef: string;
  let message: BotMessage;

  beforeAll(async () => {
    const policy = await addPolicy(t.db, { title: 'Acceptable use' });
    await addPolicyVersion(t.db, { policyId: policy.id, version: '1.0', content: 'Use company systems responsibly.' });
    policyRef = policy.ref;
    // The bot asks Sam to acknowledge, in a direct message.
    await slack.port.send({ ...(await person('staff')) }, reply(
      text(`Please read ${policy.ref} Acceptable use, then acknowledge it.`),
      actions({ label: 'Acknowledge version 1.0', command: `ack ${policy.ref} --version 1.0`, style: 'primary' }),
    ));
    message = postedMessage(fake.callsTo('chat.postMessage').at(-1)!);
  });

  it('acknowledges the click before doing the work, then shows on the message what was recorded, by whom, when', async () => {
    const release = fake.hold('chat.update');
    const click = clickPayload('USAM', message, 'Acknowledge version 1.0', 'ack-click');
    const response = await sender.interaction(click);
    // Slack got its answer while the message update was still waiting.
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    expect(fake.callsTo('chat.update')).toHaveLength(0);
    release();
    const [update] = await fake.waitFor('chat.update');
    expect(update.args).toMatchObject({ channel: message.channel, ts: message.ts });
    const shown = blockText(update.args.blocks);
    expect(shown).toContain(`Please read ${policyRef} Acceptable use`);
    expect(shown).toContain(`Thank you: you acknowledged ${policyRef} Acceptable use version 1.0`);
    expect(shown).toMatch(/by <@USAM> \(Sam Staff\) on <!date\^\d+\^/);
    expect(() => findButton(update.args.blocks, 'Acknowledge version 1.0')).toThrow();
    const acks = await t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, cast.staff.id));
    expect(acks).toHaveLength(1);
    expect(acks[0].channel).toBe('slack');
  });

  it('records a double click once', async () => {
    const before = await auditCount();
    const updates = fake.callsTo('chat.update').length;
    await sender.interaction(clickPayload('USAM', message, 'Acknowledge version 1.0', 'ack-click-2'));
    await fake.waitFor('chat.update', updates + 1);
    expect(await t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, cast.staff.id))).toHaveLength(1);
    expect(await auditCount()).toBe(before);
  });

  it('runs a button twice clicked once, even when its command would record twice', async () => {
    await slack.port.send(await person('staff'), reply(text('Still using Notion AI?'), actions({ label: 'Declare it', command: 'declare ai "Notion AI"' })));
    const posted = postedMessage(fake.callsTo('chat.postMessage').at(-1)!);
    const updates = fake.callsTo('chat.update').length;
    await sender.interaction(clickPayload('USAM', posted, 'Declare it', 'notion-1'));
    await sender.interaction(clickPayload('USAM', posted, 'Declare it', 'notion-2'));
    await fake.waitFor('chat.update', updates + 2);
    expect((await t.db.select().from(aiTools)).filter((r) => r.name === 'Notion AI')).toHaveLength(1);
  });

  it('opens the form modal for a button whose command has no arguments', async () => {
    await slack.port.send(await person('owner'), reply(text('Policies wait for you.'), actions({ label: 'Acknowledge a policy', command: 'ack' })));
    const posted = postedMessage(fake.callsTo('chat.postMessage').at(-1)!);
    const trigger = unique('trigger');
    await sender.interaction(clickPayload('UOLGA', posted, 'Acknowledge a policy', 'ack-form', trigger));
    const opened = await openedWith(trigger);
    expect(opened.args.view.callback_id).toBe(LOADING_VIEW);
    const update = await updateOf(opened);
    const select = update.args.view.blocks.find((b: any) => b.block_id === fieldBlockId('policy'));
    expect(select.element.type).toBe('static_select');
    expect(select.element.options.map((o: any) => o.value)).toContain(policyRef);
  });
});

describe('evidence requests', () => {
  let requestRef: string;
  let request: BotMessage;

  beforeAll(async () => {
    await addControl(t.db, { code: 'CTL-AC-01', title: 'Access review', ownerId: cast.staff.id });
    // The ISMS lead asks from Slack; the request reaches Sam as a direct message through the outbox.
    await sender.command(slashCommand('ULENA', 'request CTL-AC-01', 'lead-request'));
    const answer = await responseTo('lead-request');
    requestRef = /EVR-\d{4}/.exec(blockText(answer.args.blocks))![0];
    await deliverDue(t.db, [slack.port]);
    const dm = fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'USAM' && String(c.args.text).includes(requestRef))!;
    request = postedMessage(dm);
  });

  it('remembers which request a direct message is about', async () => {
    const [link] = await t.db.select().from(messageLinks).where(eq(messageLinks.messageId, request.ts));
    expect(link).toMatchObject({ platform: 'slack', conversationId: 'DSAM', subjectRef: requestRef, recipientId: cast.staff.id });
  });

  it('records a file sent in the request thread as evidence, with its SHA-256, and answers in the thread', async () => {
    const bytes = Buffer.from('%PDF-1.7 access review Q3: 42 accounts checked, 2 removed');
    fake.addFile('F0REVIEW', 'access-review-q3.pdf', bytes, 'application/pdf');
    const replies = fake.callsTo('chat.postMessage').length;
    const response = await sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'Q3 review',
      ts: '1700000500.000100', thread_ts: request.ts, files: [{ id: 'F0REVIEW', name: 'access-review-q3.pdf' }],
    }, 'Ev0FILE');
    expect(response.status).toBe(200);
    const posted = await fake.waitFor('chat.postMessage', replies + 1);
    const answer = posted.at(-1)!;
    expect(answer.args).toMatchObject({ channel: 'DSAM', thread_ts: request.ts });
    const [item] = await t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'access-review-q3.pdf'));
    expect(item).toMatchObject({ fileSha256: sha256(bytes), fileSize: bytes.length, text: 'Q3 review', submittedBy: cast.staff.id, channel: 'slack' });
    expect((await storedFileBytes(t.db, item)).equals(bytes)).toBe(true);
    expect(blockText(answer.args.blocks)).toContain(item.ref);
    expect(blockText(answer.args.blocks)).toContain(sha256(bytes));
    const [req] = await t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, requestRef));
    expect(req.status).toBe('submitted');
    // The file was fetched with the bot token, as Slack requires.
    expect(fake.callsTo('file download').at(-1)).toMatchObject({ token: BOT_TOKEN, status: 200 });
    // The download waited in a temporary file only until the command ran.
    expect(await leftInDownloads()).toEqual([]);
  });

  it('records an event Slack delivers again (X-Slack-Retry-Num) only once', async () => {
    const replies = fake.callsTo('chat.postMessage').length;
    const response = await sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'Q3 review',
      ts: '1700000500.000100', thread_ts: request.ts, files: [{ id: 'F0REVIEW', name: 'access-review-q3.pdf' }],
    }, 'Ev0FILE', { retryNum: 1 });
    expect(response.status).toBe(200);
    await logs.waitFor((l) => l.request?.event_id === 'Ev0FILE' && /again/.test(l.msg));
    expect(await t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'access-review-q3.pdf'))).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(replies);
  });

  /** Sam shares a file alone in the request's thread; returns the bot's answer there. */
  async function fileInThread(id: string, name: string, ts: string): Promise<string> {
    const replies = fake.callsTo('chat.postMessage').length;
    await sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: '',
      ts, thread_ts: request.ts, files: [{ id, name }],
    }, `Ev${ts}`);
    return blockText((await fake.waitFor('chat.postMessage', replies + 1)).at(-1)!.args.blocks);
  }

  it('refuses a file Slack states is over 100 MB without downloading it, and records nothing', async () => {
    fake.addFile('F0HUGE', 'disk-image.raw', Buffer.from('raw'), 'application/octet-stream', { statedSize: MAX_EVIDENCE_FILE_BYTES + 1 });
    const before = { events: await auditCount(), downloads: fake.callsTo('file download').length };
    expect(await fileInThread('F0HUGE', 'disk-image.raw', '1700000510.000100')).toContain('The file "disk-image.raw" is larger than 100 MB. Nothing was recorded.');
    expect(fake.callsTo('file download')).toHaveLength(before.downloads);
    expect(await auditCount()).toBe(before.events);
  });

  it('cuts off a download that streams past 100 MB although Slack stated a small size, records nothing, and leaves no temporary file', async () => {
    fake.addFile('F0ENDLESS', 'export.csv', Buffer.alloc(1024 * 1024, 'a'), 'text/csv', { endless: true });
    const before = { events: await auditCount() };
    expect(await fileInThread('F0ENDLESS', 'export.csv', '1700000520.000100')).toContain('The file "export.csv" is larger than 100 MB. Nothing was recorded.');
    expect(await auditCount()).toBe(before.events);
    expect(await leftInDownloads()).toEqual([]);
  });

  it('records a text reply in the thread as evidence text', async () => {
    const replies = fake.callsTo('chat.postMessage').length;
    await sender.event({
      type: 'message', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'Minutes: https://wiki.example.com/access-review-q3',
      ts: '1700000600.000100', thread_ts: request.ts,
    }, 'Ev0TEXT');
    const answer = (await fake.waitFor('chat.postMessage', replies + 1)).at(-1)!;
    const [item] = await t.db.select().from(evidenceItems).where(eq(evidenceItems.text, 'Minutes: https://wiki.example.com/access-review-q3'));
    expect(item).toMatchObject({ revision: 2, submittedBy: cast.staff.id });
    expect(answer.args.thread_ts).toBe(request.ts);
    expect(blockText(answer.args.blocks)).toContain(item.ref);
  });

  it('does not take a reply in the thread of a message about something else (a policy) as evidence', async () => {
    await t.db.insert(messageLinks).values({ platform: 'slack', conversationId: 'DSAM', messageId: '1700000700.000100', recipientId: cast.staff.id, subjectRef: 'POL-0009' });
    const before = await auditCount();
    const replies = fake.callsTo('chat.postMessage').length;
    await sender.event({
      type: 'message', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'read it, thanks',
      ts: '1700000701.000100', thread_ts: '1700000700.000100',
    }, 'Ev0POLICYTHREAD');
    const answer = (await fake.waitFor('chat.postMessage', replies + 1)).at(-1)!;
    expect(blockText(answer.args.blocks)).toContain('To hand in evidence, reply with the file or text in the thread of my evidence request');
    expect(await auditCount()).toBe(before);
  });

  it('refuses a click on someone else\'s request privately and leaves the message alone', async () => {
    const updates = fake.callsTo('chat.update').length;
    const opens = fake.callsTo('views.open').length;
    const before = await auditCount();
    // Olga sees the message (e.g. forwarded) and clicks; the router checks ownership on the server.
    await sender.interaction(clickPayload('UOLGA', { ...request, channel: 'DOLGA' }, 'Submit evidence', 'wrong-user'));
    const answer = await responseTo('wrong-user');
    expect(answer.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(blockText(answer.args.blocks)).toContain(`${requestRef} belongs to Sam Staff`);
    expect(fake.callsTo('chat.update')).toHaveLength(updates);
    expect(fake.callsTo('views.open')).toHaveLength(opens);
    expect(await auditCount()).toBe(before);
  });

  it('opens the evidence form from the "Submit evidence" button and records a file from its file input', async () => {
    const trigger = unique('trigger');
    await sender.interaction(clickPayload('USAM', request, 'Submit evidence', 'submit-button', trigger));
    const opened = await openedWith(trigger);
    const view = opened.args.view;
    expect(view.callback_id).toBe(FORM_VIEW);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ command: 'evidence submit', hidden: { target: requestRef } });
    expect(view.blocks.find((b: any) => b.block_id === fieldBlockId('file')).element.type).toBe('file_input');
    expect(view.blocks.find((b: any) => b.block_id === fieldBlockId('effective')).element.type).toBe('datepicker');

    const bytes = Buffer.from('screenshot of the access review tool');
    fake.addFile('F0SHOT', 'review-tool.png', bytes, 'image/png');
    const response = await sender.interaction(submission('USAM', { ...view, id: opened.response!.view.id }, {
      [fieldBlockId('file')]: { files: [{ id: 'F0SHOT', name: 'review-tool.png' }] },
    }));
    expect(response.json().response_action).toBe('update');
    // A file may take a while to fetch: the result replaces the "Recording…" view once it is recorded.
    const answer = (await fake.waitForCall('views.update', (c) => c.args.view_id === opened.response!.view.id)).args;
    const [item] = await t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'review-tool.png'));
    expect(item).toMatchObject({ fileSha256: sha256(bytes), revision: 3, channel: 'slack' });
    expect(blockText(answer.view.blocks)).toContain(item.ref);
  });
});

describe('App Home', () => {
  it('publishes the person\'s to-do from "/isms status", and its buttons work from there', async () => {
    const policy = await addPolicy(t.db, { title: 'Clean desk' });
    await addPolicyVersion(t.db, { policyId: policy.id, version: '1.0', content: 'Leave nothing on your desk.' });
    const publishes = fake.callsTo('views.publish').length;
    await sender.event({ type: 'app_home_opened', user: 'UOLGA', channel: 'DOLGA', tab: 'home', event_ts: '1700000700.000100' }, 'Ev0HOME');
    const published = (await fake.waitFor('views.publish', publishes + 1)).at(-1)!;
    expect(published.args.user_id).toBe('UOLGA');
    expect(published.args.view.type).toBe('home');
    const shown = blockText(published.args.view.blocks);
    expect(shown).toContain('Your ISMS to-do');
    expect(shown).toContain('Olga Owner');
    expect(shown).toContain(`${policy.ref} — Clean desk`);

    // Acknowledging from the home: the answer comes as a direct message, and the home is refreshed.
    const homeBlocks = published.args.view.blocks.map((b: any, i: number) => ({ block_id: `home${i}`, ...b }));
    const { blockId, button } = findButton(homeBlocks, 'Acknowledge version 1.0', `ack ${policy.ref} --version 1.0`);
    const posts = fake.callsTo('chat.postMessage').length;
    const viewId = published.response!.view.id;
    await sender.interaction({
      type: 'block_actions', api_app_id: 'A0TEST', token: 'legacy', trigger_id: unique('trigger'),
      user: { id: 'UOLGA', username: 'uolga', name: 'uolga', team_id: 'T0TEST' }, team: { id: 'T0TEST', domain: 'test' },
      container: { type: 'view', view_id: viewId },
      view: { ...published.args.view, blocks: homeBlocks, id: viewId, hash: published.response!.view.hash, state: { values: {} } },
      actions: [{ type: 'button', action_id: button.action_id, block_id: blockId, text: button.text, value: button.value, action_ts: '1700000701.000001' }],
    });
    const dm = (await fake.waitFor('chat.postMessage', posts + 1)).at(-1)!;
    expect(dm.args.channel).toBe('UOLGA');
    expect(blockText(dm.args.blocks)).not.toContain('Acceptable use');
    expect(blockText(dm.args.blocks)).toContain(`you acknowledged ${policy.ref} Clean desk`);
    const refreshed = (await fake.waitFor('views.publish', publishes + 2)).at(-1)!;
    expect(blockText(refreshed.args.view.blocks)).not.toContain(`${policy.ref} — Clean desk`);
  });

  it('shows someone outside the register whom to ask', async () => {
    await sender.event({ type: 'app_home_opened', user: 'USTRANGER', channel: 'DSTRANGER', tab: 'home', event_ts: '1700000800.000100' }, 'Ev0HOME2');
    const published = await fake.waitForCall('views.publish', (c) => c.args.user_id === 'USTRANGER');
    expect(blockText(published.args.view.blocks)).toContain('You are not in the ISMS register');
  });
});

const person = (who: Who) => w.person(who);

describe('the Slack chat port (messages the bot sends on its own)', () => {
  it('reaches people with a Slack user id, and not someone whose email no Slack account has', async () => {
    const [lena] = await t.db.select().from(people).where(eq(people.id, cast.lead.id));
    expect(await slack.port.canReach(lena)).toBe(true);
    expect(await slack.port.canReach({ ...lena, slackUserId: null, email: 'nobody@elsewhere.example' })).toBe(false);
  });

  it('waits out a 429 for as long as Retry-After says, then delivers', async () => {
    fake.rateLimit('chat.postMessage', 1);
    const before = fake.callsTo('chat.postMessage').length;
    await slack.port.send(await person('lead'), reply(text('Weekly digest: 3 items need you.')));
    fake.clearFailures();
    const calls = fake.callsTo('chat.postMessage').slice(before);
    // A retry before the second had passed would have been refused with another 429.
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1].args).toMatchObject({ channel: 'ULENA', text: 'Weekly digest: 3 items need you.' });
  });

  it('gives up after the retries with a DeliveryError naming Retry-After, and logs the request without the token', async () => {
    fake.failNext('chat.postMessage', 429);
    const before = fake.callsTo('chat.postMessage').length;
    const error = await slack.port.send(await person('lead'), { ...reply(text('Reminder')), about: 'EVR-0042' }).catch((e) => e);
    fake.clearFailures();
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ retryAfterMs: 1000, permanent: false });
    expect(fake.callsTo('chat.postMessage').slice(before).map((c) => c.status)).toEqual([429, 429, 429]);
    const logged = await logs.waitFor((l) => l.slackMethod === 'chat.postMessage' && l.request?.about === 'EVR-0042');
    expect(logged).toMatchObject({ level: 50, request: { kind: 'delivery', recipient: cast.lead.id }, target: { channel: 'ULENA' } });
    expect(logs.text()).not.toContain(BOT_TOKEN);
    expect(await t.db.select().from(messageLinks).where(eq(messageLinks.subjectRef, 'EVR-0042'))).toHaveLength(0);
  });

  it('turns a 5xx that outlived the retries into a DeliveryError the outbox retries later', async () => {
    fake.failNext('chat.postMessage', 503);
    const before = fake.callsTo('chat.postMessage').length;
    const error = await slack.port.send(await person('lead'), reply(text('Reminder'))).catch((e) => e);
    fake.clearFailures();
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.permanent).toBe(false);
    expect(fake.callsTo('chat.postMessage').slice(before).map((c) => c.status)).toEqual([503, 503, 503]);
  });

  it('marks a refusal Slack will repeat (unknown user) as permanent', async () => {
    fake.on('chat.postMessage', () => ({ ok: false, error: 'user_not_found' }));
    const error = await slack.port.send(await person('lead'), reply(text('Hello'))).catch((e) => e);
    fake.off('chat.postMessage');
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.permanent).toBe(true);
  });
});

describe('Socket Mode', () => {
  it('connects through apps.connections.open at SLACK_API_URL, acks an envelope and answers the command', async () => {
    await fake.startSocketServer();
    const socketHttp = new HttpServer(() => undefined);
    const attaching = attachSlack(buildCore({ SLACK_APP_TOKEN: 'xapp-test-app-token' }), socketHttp, { retryConfig });
    const ws = await fake.waitForSocketClient();
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0TEST' } }));
    const socket = await attaching;
    try {
      expect(fake.callsTo('apps.connections.open').at(-1)!.token).toBe('xapp-test-app-token');
      ws.send(JSON.stringify({
        envelope_id: 'env-0001', type: 'slash_commands', accepts_response_payload: true,
        payload: slashCommand('USAM', 'help', 'socket-help'),
      }));
      const ack = await fake.waitForFrame((f) => f.envelope_id === 'env-0001');
      expect(ack).toEqual({ envelope_id: 'env-0001', payload: {} });
      const answer = await responseTo('socket-help');
      expect(blockText(answer.args.blocks)).toContain('Hello Sam Staff');
      expect(logs.text()).not.toContain('xapp-test-app-token');
    } finally {
      await socket.stop();
    }
  });
});

describe('when the database is down', () => {
  it('acks, tells the person nothing was recorded, logs the fault, and the next request still works', async () => {
    // Nothing listens on port 1: what a stopped PostgreSQL looks like to the bot.
    const down = await openDatabase({ kind: 'postgres', url: 'postgres://isms@127.0.0.1:1/isms', poolSize: 1 });
    const downHttp = new HttpServer(() => undefined);
    const core: Core = assembleCore(buildCore({ SLACK_SIGNING_SECRET: SECRET }).config, createLogger('debug', logs), down);
    const attached = await attachSlack(core, downHttp, { retryConfig });
    const port = await downHttp.listen(0, '127.0.0.1');
    const downSender = new SlackSender(`http://127.0.0.1:${port}${EVENTS_PATH}`, SECRET);
    try {
      const before = (await t.db.select().from(aiTools)).length;
      const response = await downSender.command(slashCommand('USAM', 'declare ai Outage', 'db-down'));
      expect(response.status).toBe(200);
      const answer = await responseTo('db-down');
      expect(answer.args.response_type).toBe('ephemeral');
      expect(blockText(answer.args.blocks)).toContain('The register is not answering right now, so nothing was recorded');
      expect((await t.db.select().from(aiTools)).length).toBe(before);
      const again = await downSender.command(slashCommand('USAM', 'help', 'db-down-again'));
      expect(again.status).toBe(200);
      expect(blockText((await responseTo('db-down-again')).args.blocks)).toContain('nothing was recorded');
    } finally {
      await attached.stop();
      await downHttp.close();
      await down.close().catch(() => undefined);
    }
  });
});
