/**
 * The Slack adapter driven as Slack really drives it: escaped text, slow file downloads, a second
 * account with a known email, events delivered several times at once, and the notification text
 * people see. Every test gets a register, a fake Slack and an adapter of its own.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { addControl } from './helpers/fixtures.js';
import { SlackWorkspace, blockText, directMessage, findButton, postedMessage, submission, unique, type BotMessage } from './helpers/fake-slack-workspace.js';
import { deliverDue } from '../src/core/delivery.js';
import { defineCommand } from '../src/core/router.js';
import { replyText } from '../src/core/reply.js';
import { aiTools, auditEvents, evidenceItems, evidenceRequests, outbox, people } from '../src/db/schema/index.js';
import { fieldBlockId } from '../adapters/slack/ids.js';

let w: SlackWorkspace;
/** A loaded machine may take a while; vi.waitFor's default second is too tight. */
const WAIT = { timeout: 15_000 };

beforeEach(async () => {
  w = await SlackWorkspace.start();
});

afterEach(async () => {
  await w?.close();
});

/** The ISMS lead asks Sam for evidence; the request reaches him as a direct message. */
async function evidenceRequestForSam(): Promise<{ ref: string; message: BotMessage }> {
  await addControl(w.t.db, { code: 'CTL-AC-01', title: 'Access review', ownerId: w.cast.staff.id });
  await w.sender.command(w.slashCommand('ULENA', 'request CTL-AC-01', 'lead-request'));
  const ref = /EVR-\d{4}/.exec(blockText((await w.responseTo('lead-request')).args.blocks))![0];
  await deliverDue(w.t.db, [w.slack.port]);
  const dm = w.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'USAM' && String(c.args.text).includes(ref))!;
  return { ref, message: postedMessage(dm) };
}

const threadAnswers = (threadTs: string) => w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === threadTs);
const ignoredRepeats = (eventId: string) => w.logs.lines.filter((l) => l.request?.event_id === eventId && /again/.test(l.msg));

describe('text as Slack sends it', () => {
  it('stores a tool typed as "R&D Copilot" as typed, though Slack sends "R&amp;D Copilot"', async () => {
    const response = await w.sender.command(w.slashCommand('USAM', 'declare ai "R&amp;D Copilot" "summaries &lt;internal&gt;" --vendor Acme', 'escaped'));
    expect(response.status).toBe(200);
    const answer = await w.responseTo('escaped');
    const [tool] = await w.t.db.select().from(aiTools);
    expect(tool).toMatchObject({ name: 'R&D Copilot', purpose: 'summaries <internal>', vendor: 'Acme' });
    // Shown back escaped for Slack's markup (the notification text too), so the person reads "R&D Copilot" again.
    expect(blockText(answer.args.blocks)).toContain('R&amp;D Copilot');
    expect(answer.args.text).toContain('R&amp;D Copilot');
  });

  it('records an evidence reply that is a link (Slack sends "<https://…>") as a link', async () => {
    const { ref, message } = await evidenceRequestForSam();
    await w.sender.event(directMessage('USAM', 'DSAM', '<https://wiki.example/q4-review>', '1700000600.000100', message.ts), 'EvLINK');
    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === message.ts);
    const [item] = await w.t.db.select().from(evidenceItems);
    expect(item).toMatchObject({ link: 'https://wiki.example/q4-review', text: null, submittedBy: w.cast.staff.id });
    expect(blockText(answer.args.blocks)).toContain(item.ref);
    const [request] = await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref));
    expect(request.status).toBe('submitted');
  });
});

describe("Slack's 3 seconds", () => {
  it('acknowledges a form with a slow file at once, then records it once and shows the result', async () => {
    const { ref, message } = await evidenceRequestForSam();
    const trigger = unique('trigger');
    await w.sender.interaction(w.clickPayload('USAM', message, 'Submit evidence', 'open', trigger));
    const opened = await w.openedWith(trigger);
    w.fake.addFile('F0SLOW', 'access-review.pdf', Buffer.from('%PDF-1.7 a large scan'), 'application/pdf');
    const release = w.fake.hold('file download');

    const response = await w.sender.interaction(submission('USAM', { ...opened.args.view, id: opened.response!.view.id }, {
      [fieldBlockId('file')]: { files: [{ id: 'F0SLOW', name: 'access-review.pdf' }] },
    }));
    // Slack has its answer while the file is still being fetched.
    expect(response.status).toBe(200);
    const interim = response.json();
    expect(interim.response_action).toBe('update');
    expect(blockText(interim.view.blocks)).toContain('Recording');
    expect(w.fake.callsTo('file download')).toHaveLength(0);
    await vi.waitFor(() => expect(w.fake.waitingOn('file download')).toBe(1), WAIT);
    expect(await w.t.db.select().from(evidenceItems)).toHaveLength(0);

    release();
    const result = await w.fake.waitForCall('views.update', (c) => c.args.view_id === opened.response!.view.id);
    const items = await w.t.db.select().from(evidenceItems);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ fileName: 'access-review.pdf', submittedBy: w.cast.staff.id });
    expect(blockText(result.args.view.blocks)).toContain(`Recorded ${items[0].ref}`);
    expect(blockText(result.args.view.blocks)).toContain(ref);
    expect(w.logs.text()).not.toMatch(/ReceiverMultipleAckError|not acknowledged/);
  });

  it('still shows a problem known without the file under its field, and fetches nothing', async () => {
    const { message } = await evidenceRequestForSam();
    const trigger = unique('trigger');
    await w.sender.interaction(w.clickPayload('USAM', message, 'Submit evidence', 'open', trigger));
    const opened = await w.openedWith(trigger);
    w.fake.addFile('F0SCAN', 'scan.pdf', Buffer.from('%PDF-1.7 scan'), 'application/pdf');
    const response = await w.sender.interaction(submission('USAM', { ...opened.args.view, id: opened.response!.view.id }, {
      [fieldBlockId('effective')]: { selected_date: '0999-12-31' },
      [fieldBlockId('file')]: { files: [{ id: 'F0SCAN', name: 'scan.pdf' }] },
    }));
    const answer = response.json();
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors)).toEqual([fieldBlockId('effective')]);
    expect(w.fake.callsTo('files.info')).toHaveLength(0);
    expect(await w.t.db.select().from(evidenceItems)).toHaveLength(0);
  });
});

describe('a form shows each problem under its own field', () => {
  it('puts a refused control character under the field that holds it, not under the first', async () => {
    const view = await w.formOf('USAM', 'declare ai');
    const before = await w.auditCount();
    const response = await w.sender.interaction(submission('USAM', view, {
      [fieldBlockId('tool')]: { value: 'Copilot' },
      [fieldBlockId('purpose')]: { value: 'drafts\u0000' },
    }));
    const answer = response.json();
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors)).toEqual([fieldBlockId('purpose')]);
    expect(answer.errors[fieldBlockId('purpose')]).toMatch(/control character/);
    expect(await w.auditCount()).toBe(before);
  });

  it('puts a bad due date under "Due date"', async () => {
    await addControl(w.t.db, { code: 'CTL-BK-01', title: 'Backups', ownerId: w.cast.owner.id });
    const view = await w.formOf('ULENA', 'request');
    const response = await w.sender.interaction(submission('ULENA', view, {
      [fieldBlockId('control')]: { value: 'CTL-BK-01' },
      [fieldBlockId('due')]: { selected_date: '9999-12-31' },
    }));
    const answer = response.json();
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors)).toEqual([fieldBlockId('due')]);
    expect(await w.t.db.select().from(evidenceRequests)).toHaveLength(0);
  });

  it('keeps a refusal without a field (a role refusal) under the first field', async () => {
    const view = await w.formOf('ULENA', 'request');
    await w.t.db.update(people).set({ roles: ['staff'] }).where(eq(people.id, w.cast.lead.id));
    const response = await w.sender.interaction(submission('ULENA', view, { [fieldBlockId('control')]: { value: 'CTL-XX-01' } }));
    const answer = response.json();
    expect(answer.response_action).toBe('errors');
    expect(answer.errors[fieldBlockId('control')]).toMatch(/Only the ISMS lead may use/);
  });
});

describe('who sees an answer', () => {
  it('answers in the channel only when the command says its answer is public', async () => {
    w.bot.router.register(defineCommand({
      name: 'standup', summary: 'Says hello to the channel', examples: ['standup'], schema: z.object({}), answersPublicly: true,
      run: async () => replyText('Good morning, team.'),
    }));
    await w.sender.command(w.slashCommand('USAM', 'standup', 'public'));
    await w.sender.command(w.slashCommand('USAM', 'help', 'private'));
    expect((await w.responseTo('public')).args.response_type).toBe('in_channel');
    expect((await w.responseTo('private')).args.response_type).toBe('ephemeral');
  });
});

describe('forms as Slack shows them', () => {
  it('asks for a number of people with a number input that does not allow decimals', async () => {
    const view = await w.formOf('USAM', 'declare ai');
    const users = view.blocks.find((b: { block_id?: string }) => b.block_id === fieldBlockId('users'));
    expect(users.element).toMatchObject({ type: 'number_input', is_decimal_allowed: false });
  });
});

describe('one account per person', () => {
  it('refuses a second Slack account that shows the email of someone already linked, and tells the ISMS lead', async () => {
    w.fake.users.set('USAM2', { email: 'sam@test.example' });
    const response = await w.sender.command(w.slashCommand('USAM2', 'declare ai Takeover', 'second-account'));
    expect(response.status).toBe(200);
    const answer = await w.responseTo('second-account');
    expect(answer.args.response_type).toBe('ephemeral');
    expect(blockText(answer.args.blocks)).toContain('already linked to another Slack account');
    expect((await w.person('staff')).slackUserId).toBe('USAM');
    expect(await w.t.db.select().from(aiTools)).toHaveLength(0);
    const told = await w.t.db.select().from(outbox).where(eq(outbox.recipientId, w.cast.lead.id));
    expect(told.map((m) => m.kind)).toEqual(['identity_conflict']);
    expect(JSON.stringify(told[0].reply)).toContain('USAM2');
    expect(await w.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'link_slack_user'))).toHaveLength(0);
  });
});

describe('one answer per event, however often Slack delivers it', () => {
  it('records evidence whose answer could not be posted once, and answers when Slack delivers the event again', async () => {
    const { message } = await evidenceRequestForSam();
    const event = directMessage('USAM', 'DSAM', 'Q4 review notes', '1700000950.000100', message.ts);
    w.fake.failNext('chat.postMessage', 500);
    await w.sender.event(event, 'EvLOST');
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === message.ts && c.status === 500).length).toBeGreaterThan(0), WAIT);
    await vi.waitFor(async () => expect(await w.t.db.select().from(evidenceItems)).toHaveLength(1), WAIT);
    w.fake.clearFailures();

    await w.sender.event(event, 'EvLOST', { retryNum: 1 });

    await vi.waitFor(() => expect(threadAnswers(message.ts).filter((c) => c.status === 200)).toHaveLength(1), WAIT);
    const items = await w.t.db.select().from(evidenceItems);
    expect(items).toHaveLength(1);
    expect(blockText(threadAnswers(message.ts).find((c) => c.status === 200)!.args.blocks)).toContain(items[0].ref);
  });

  it('answers an evidence reply delivered five times at once once, and records it once', async () => {
    const { message } = await evidenceRequestForSam();
    w.fake.addFile('F0FIVE', 'q4-review.pdf', Buffer.from('%PDF-1.7 Q4 review'), 'application/pdf');
    const event = directMessage('USAM', 'DSAM', 'Q4 review', '1700000900.000100', message.ts, [{ id: 'F0FIVE', name: 'q4-review.pdf' }]);
    // Whichever delivery gets to the file first waits there, so all five are under way together.
    const release = w.fake.hold('files.info');
    const deliveries = await Promise.all([0, 1, 2, 3, 4].map((n) => w.sender.event(event, 'EvFIVE', n ? { retryNum: n } : {})));
    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200, 200]);
    await vi.waitFor(() => expect(w.fake.waitingOn('files.info')).toBe(5), WAIT);
    release();
    await vi.waitFor(() => expect(ignoredRepeats('EvFIVE')).toHaveLength(4), WAIT);
    // The four repeats may be turned away before the first delivery's answer reaches Slack.
    await vi.waitFor(() => expect(threadAnswers(message.ts)).toHaveLength(1), WAIT);
    const items = await w.t.db.select().from(evidenceItems);
    expect(items).toHaveLength(1);
    expect(blockText(threadAnswers(message.ts)[0].args.blocks)).toContain(items[0].ref);
  });

  it('gives a hint or a refusal once, even when the event comes again without a retry number', async () => {
    const hint = directMessage('USAM', 'DSAM', 'hello?', '1700001000.000100');
    const stranger = directMessage('USTRANGER', 'DSTRANGER', 'hi', '1700001001.000100');
    await Promise.all([1, 2, 3].flatMap(() => [w.sender.event(hint, 'EvHINT'), w.sender.event(stranger, 'EvSTRANGER')]));
    await vi.waitFor(() => expect(ignoredRepeats('EvHINT').length + ignoredRepeats('EvSTRANGER').length).toBe(4), WAIT);
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage')).toHaveLength(2), WAIT);
    const [toSam] = w.fake.callsIn('DSAM');
    const [toStranger] = w.fake.callsIn('DSTRANGER');
    expect(blockText(toSam.args.blocks)).toContain('I take commands');
    expect(blockText(toStranger.args.blocks)).toContain('You are not in the ISMS register');
  });
});

describe('notification text', () => {
  const commandSyntax = /\/isms|\[[^\]]+\]/;

  it('says a triage nudge as a sentence, with Accept and Reject as buttons only', async () => {
    await w.sender.command(w.slashCommand('USAM', 'declare ai Copilot', 'declare'));
    await w.responseTo('declare');
    await deliverDue(w.t.db, [w.slack.port]);
    const nudge = w.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'ULENA')!;
    expect(nudge.args.text).toMatch(/^New for triage: Sam Staff declared the AI tool Copilot \(AI-\d{4}\)\.?$/);
    expect(nudge.args.text).not.toMatch(commandSyntax);
    const accept = findButton(postedMessage(nudge).blocks, 'Accept').button;
    expect(accept.value).toMatch(/^triage accept SC-\d{4}$/);

    // The lead's list of what waits and the message after a click read the same way.
    await w.sender.command(w.slashCommand('ULENA', 'triage', 'list'));
    const list = await w.responseTo('list');
    expect(list.args.text).toContain('Copilot');
    expect(list.args.text).not.toMatch(commandSyntax);
    await w.sender.interaction(w.clickPayload('ULENA', postedMessage(nudge), 'Accept', 'accept'));
    const [updated] = await w.fake.waitFor('chat.update');
    expect(updated.args.text).toMatch(/^Accepted SC-\d{4}/);
    expect(updated.args.text).not.toMatch(commandSyntax);
  });

  it('says an evidence request as a sentence, with "Submit evidence" as a button only', async () => {
    const { ref, message } = await evidenceRequestForSam();
    const dm = w.fake.callsTo('chat.postMessage').find((c) => c.response?.ts === message.ts)!;
    expect(dm.args.text).toContain(`Lena Lead asks you for evidence that CTL-AC-01 Access review works`);
    expect(dm.args.text).toContain(ref);
    expect(dm.args.text).not.toMatch(commandSyntax);
    expect(findButton(message.blocks, 'Submit evidence').button.value).toBe(`evidence submit ${ref}`);
  });
});

describe('an answer Slack would not take', () => {
  it('tells the person a recorded declaration stays recorded when its answer could not be posted, so they do not declare it twice', async () => {
    w.fake.failNext('response_url', 500, 1);
    await w.sender.command(w.slashCommand('USAM', 'declare ai Gamma "slide decks" --vendor Gamma', 'lost-answer'));
    const answers = () => w.fake.callsTo('response_url').filter((c) => c.args.id === 'lost-answer');
    await vi.waitFor(() => expect(answers().map((c) => c.status)).toEqual([500, 200]), WAIT);
    const said = blockText(answers()[1].args.blocks);
    expect(said).toContain('Your request was recorded, but its answer may not have reached you. Do not send it again');
    expect(said).not.toContain('nothing was recorded');
    expect(answers()[1].args.response_type).toBe('ephemeral');
    expect(await w.t.db.select().from(aiTools).where(eq(aiTools.name, 'Gamma'))).toHaveLength(1);
  });

  it('still says nothing was recorded when the answer to a question could not be posted', async () => {
    w.fake.failNext('response_url', 500, 1);
    const before = (await w.t.db.select().from(auditEvents)).length;
    await w.sender.command(w.slashCommand('USAM', 'help', 'lost-help'));
    const answers = () => w.fake.callsTo('response_url').filter((c) => c.args.id === 'lost-help');
    await vi.waitFor(() => expect(answers().map((c) => c.status)).toEqual([500, 200]), WAIT);
    expect(blockText(answers()[1].args.blocks)).toContain('nothing was recorded');
    expect(await w.t.db.select().from(auditEvents)).toHaveLength(before);
  });

  it.each([
    ['Slack answered 504 (a gateway timeout)', 'lost-help-504', () => w.fake.failNext('response_url', 504, 1)],
    ['the connection was lost mid-post', 'lost-help-dropped', () => w.fake.takeThenDropConnection('response_url')],
  ] as const)('sends no "something went wrong" after the answer to a question that may have arrived: %s', async (_why, id, fail) => {
    fail();
    try {
      await w.sender.command(w.slashCommand('USAM', 'help', id));
      await w.logs.waitFor((l) => l.request?.kind === 'slash_command' && /^Slack request failed/.test(l.msg));
    } finally {
      w.fake.clearFailures();
    }
    await w.bot.inFlight.settled(WAIT.timeout);
    const answers = w.fake.callsTo('response_url').filter((c) => c.args.id === id);
    expect(answers).toHaveLength(1);
    expect(blockText(answers[0].args.blocks)).not.toContain('Something went wrong');
  });
});
