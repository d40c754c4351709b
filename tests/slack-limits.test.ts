/**
 * Slack's documented limits, which the fake enforces as Slack does: a response_url takes 5 posts
 * within 30 minutes (then 404 used_url / expired_url), a trigger_id opens one modal within 3 seconds
 * (expired_trigger_id), a closed modal cannot be updated (not_found), a channel may refuse a post
 * (archived, without the bot, the person not in it), and Block Kit's limits (invalid_blocks). Time
 * passes on the fake's own clock, never by waiting.
 * One workspace for the file; each test uses its own commands, triggers and response ids.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SlackWorkspace, blockText, findButton, unique } from './helpers/fake-slack-workspace.js';
import type { SlackCall } from './helpers/fake-slack.js';
import { risks } from '../src/db/schema/index.js';
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
