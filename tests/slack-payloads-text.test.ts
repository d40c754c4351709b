/**
 * Text as real Slack writes it, and as Slack reads what the bot sends: emoji in a message's text
 * (":white_check_mark:", with the character itself only in the message's rich_text blocks),
 * mentions whose label Slack leaves empty ("<#C…|>"), a message forwarded with "Share message"
 * (attached, left out of the text), and the notification text of the bot's
 * messages, which Slack reads as mrkdwn like the blocks (&, < and > escaped); and a modal the bot
 * does not know, submitted.
 * One workspace for the file; each test uses its own people, messages and event ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { addPolicy, addPolicyVersion } from './helpers/fixtures.js';
import { SlackWorkspace, blockText, postedMessage } from './helpers/fake-slack-workspace.js';
import { actions, reply, text } from '../src/core/reply.js';
import { evidenceItems, evidenceRequests, people, poamExtensions, poamItems, scopeChanges } from '../src/db/schema/index.js';

let w: SlackWorkspace;

beforeAll(async () => {
  w = await SlackWorkspace.start();
});

afterAll(async () => {
  await w?.close();
});

/** Sam's reply in the thread of a new evidence request, as the Events API delivers it; gives what was recorded. */
async function evidenceReply(control: string, ts: string, said: string, blocks?: unknown[]) {
  const { ref, request } = await w.evidenceRequest('staff', control);
  await w.sender.event({
    type: 'message', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: said, ts, event_ts: ts, thread_ts: request.ts,
    client_msg_id: `c0ffee00-0000-4000-8000-${ts.replace('.', '').slice(-12)}`, team: 'T0TEST', ...(blocks ? { blocks } : {}),
  }, `Ev${control}`);
  await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
  const [evidenceRequest] = await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref));
  const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, evidenceRequest.id));
  return item;
}

describe('emoji in a message to the bot', () => {
  it('are recorded as the person typed them, though Slack writes them as :codes: in the text (the character is in the rich_text blocks)', async () => {
    // As Slack sends a message with emoji: codes in `text`, each emoji's code points in the blocks; a custom emoji has none.
    const blocks = [{
      type: 'rich_text', block_id: 'Xy1z',
      elements: [{
        type: 'rich_text_section',
        elements: [
          { type: 'text', text: 'Restore test passed ' },
          { type: 'emoji', name: 'white_check_mark', unicode: '2705' },
          { type: 'text', text: ' thanks ' },
          { type: 'emoji', name: '+1', unicode: '1f44d-1f3fd', skin_tone: 3 },
          { type: 'text', text: ' ' },
          { type: 'emoji', name: 'acme-logo' },
          { type: 'text', text: ' at 10:30:00' },
        ],
      }],
    }];
    const item = await evidenceReply('CTL-EMO-01', '1700005000.000100', 'Restore test passed :white_check_mark: thanks :+1::skin-tone-3: :acme-logo: at 10:30:00', blocks);
    expect(item.text).toBe('Restore test passed ✅ thanks 👍🏽 :acme-logo: at 10:30:00');
  });
});

describe('a mention whose label Slack leaves empty', () => {
  it('is recorded as the channel\'s id, not as a bare "#"', async () => {
    const item = await evidenceReply('CTL-LBL-01', '1700005100.000100', 'Announced in <#C0OPS1234|> and <#C0SEC5678|security>');
    expect(item.text).toBe('Announced in #C0OPS1234 and #security');
  });
});

describe('a message forwarded into the thread of an evidence request ("Share message")', () => {
  it('is recorded with its author, text and link, though Slack leaves it out of the message\'s text', async () => {
    const permalink = 'https://test.slack.com/archives/C0OPS1234/p1700000000000200';
    // As Slack sends a shared message: the person's own words (none here) in `text`, the shared one attached.
    const { ref, request } = await w.evidenceRequest('staff', 'CTL-SHR-01');
    await w.sender.event({
      type: 'message', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: '', ts: '1700005300.000100', event_ts: '1700005300.000100', thread_ts: request.ts, team: 'T0TEST',
      attachments: [{
        id: 1, ts: '1700000000.000200', is_share: true, is_msg_unfurl: true, channel_id: 'C0OPS1234', channel_team: 'T0TEST', channel_name: 'ops',
        author_id: 'ULENA', author_name: 'lena', author_subname: 'Lena Lead', author_link: 'https://test.slack.com/team/ULENA',
        text: 'Restore test done &amp; all green', fallback: '[December 1st, 2026 10:00 AM] lena: Restore test done &amp; all green',
        from_url: permalink, original_url: permalink, footer: 'Posted in #ops', mrkdwn_in: ['text'], message_blocks: [],
      }],
    }, 'EvSHARED');
    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
    const [evidenceRequest] = await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref));
    const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, evidenceRequest.id));
    expect(item?.text).toBe(`Shared message from Lena Lead: Restore test done & all green ${permalink}`);
    expect(blockText(answer.args.blocks)).toContain(item.ref);
  });
});

describe('the notification text of the bot\'s messages', () => {
  it('escapes &, < and > as Slack\'s mrkdwn wants, so a name like "R&D <beta>" reads as typed', async () => {
    await w.sender.command(w.slashCommand('USAM', 'declare ai "R&amp;D &lt;beta&gt;" --vendor Acme', 'escaped-name'));
    const answer = await w.responseTo('escaped-name');
    expect(answer.args.text).toContain('R&amp;D &lt;beta&gt;');
    expect(answer.args.text).not.toMatch(/<beta>|R&D/);
  });

  it('and so does the note a click leaves on its message, naming the button and the person', async () => {
    const [ana] = await w.t.db.insert(people).values({ name: 'Ana <Ops> & Co', email: 'ana@test.example', roles: ['staff'], slackUserId: 'UANA' }).returning();
    const policy = await addPolicy(w.t.db, { title: 'Clean desk' });
    await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Clear your desk.' });
    await w.slack.port.send(ana, reply(text(`Please read ${policy.ref} Clean desk.`), actions({ label: 'Acknowledge <1.0> & sign', command: `ack ${policy.ref} --version 1.0` })));
    const message = postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!);
    await w.sender.interaction(w.clickPayload('UANA', message, 'Acknowledge <1.0> & sign', 'ana-click'));
    const updated = await w.fake.waitForCall('chat.update', (c) => c.args.ts === message.ts);
    const note = updated.args.blocks.at(-1).elements[0].text as string;
    expect(note).toContain('“Acknowledge &lt;1.0&gt; &amp; sign” — by <@UANA> (Ana &lt;Ops&gt; &amp; Co) on <!date^');
  });
});

describe('a modal the bot does not know submitted (one opened by an earlier version of the app)', () => {
  it('is answered at once saying the form is out of date, not left for Slack to report a connection error after 3 seconds', async () => {
    const before = await w.auditCount();
    const submitted = await w.sender.interaction({
      type: 'view_submission', api_app_id: 'A0TEST', token: 'legacy', trigger_id: 'trigger-old-form', team: { id: 'T0TEST', domain: 'test' },
      user: { id: 'USAM', username: 'usam', name: 'usam', team_id: 'T0TEST' }, is_enterprise_install: false, enterprise: null,
      view: {
        id: 'V0OLDFORM', team_id: 'T0TEST', type: 'modal', callback_id: 'isms_declare_ai', private_metadata: '', hash: '1700005200.abcdef', app_id: 'A0TEST', bot_id: 'BBOT',
        root_view_id: 'V0OLDFORM', previous_view_id: null, clear_on_close: false, notify_on_close: false, external_id: '',
        title: { type: 'plain_text', text: 'Declare an AI tool' }, submit: { type: 'plain_text', text: 'Submit' }, close: { type: 'plain_text', text: 'Cancel' },
        blocks: [{ type: 'input', block_id: 'tool', label: { type: 'plain_text', text: 'Tool' }, element: { type: 'plain_text_input', action_id: 'value' } }],
        state: { values: { tool: { value: { type: 'plain_text_input', value: 'Otter' } } } },
      },
      response_urls: [],
    });
    expect(submitted.status).toBe(200);
    expect(submitted.json()).toMatchObject({ response_action: 'update' });
    expect(JSON.stringify(submitted.json().view.blocks)).toContain('This form is out of date. Close it and run the command again.');
    expect(await w.auditCount()).toBe(before);
    expect(w.logs.text()).not.toContain('not acknowledged');
  });
});

describe('a form with a menu of several choices', () => {
  it('does not tell the person to separate them with commas, since the menu picks them (declare ai, "Data it sees")', async () => {
    const form = await w.formOf('USAM', 'declare ai');
    const data = form.blocks.find((b: any) => b.block_id === 'isms_field:data');
    expect(data.element.type).toBe('multi_static_select');
    expect(data.hint.text).toBe('The kinds of data it sees');
  });
});

describe('a form with a file field', () => {
  it("does not tell the person the terminal's way of attaching a file (evidence submit)", async () => {
    const form = await w.formOf('USAM', 'evidence submit');
    const file = form.blocks.find((b: any) => b.block_id === 'isms_field:file');
    expect(file.element.type).toBe('file_input');
    expect(file.hint.text).not.toMatch(/terminal|--file/);
  });
});

describe("the ISMS lead's App Home", () => {
  it('lists the evidence waiting for their review, with a button that lists it, instead of "Nothing is waiting for you"', async () => {
    const { request } = await w.evidenceRequest('owner', 'CTL-HOME-01');
    await w.sender.event({ type: 'message', channel: 'DOLGA', channel_type: 'im', user: 'UOLGA', text: 'Q4 access review: <https://wiki.example/ac>', ts: '1700006000.000100', event_ts: '1700006000.000100', thread_ts: request.ts }, 'EvHOMEREPLY');
    await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
    await w.sender.event({ type: 'app_home_opened', user: 'ULENA', channel: 'DLENA', tab: 'home', event_ts: '1700006001.000100' }, 'EvHOMELEAD');
    const home = await w.fake.waitForCall('views.publish', (c) => c.args.user_id === 'ULENA');
    const shown = blockText(home.args.view.blocks);
    expect(shown).not.toContain('Nothing is waiting for you');
    expect(shown).toMatch(/\d+ evidence submissions? waits? for your review/);
    expect(JSON.stringify(home.args.view.blocks)).toContain('"value":"evidence review"');
  });

  it('lists the triage items and extension requests waiting for their decision, each with its buttons', async () => {
    const [sam] = await w.t.db.select().from(people).where(eq(people.email, 'sam@test.example'));
    await w.t.db.insert(scopeChanges).values({ ref: 'SC-0901', kind: 'new_supplier', subject: 'Home Hosting', declaredBy: sam.id });
    const [item] = await w.t.db.insert(poamItems).values({ ref: 'POAM-0901', weakness: 'No home backups', source: 'risk', ownerId: sam.id, dueOn: '2026-05-31' }).returning();
    await w.t.db.insert(poamExtensions).values({ ref: 'PEX-0901', itemId: item.id, previousDueOn: '2026-05-31', requestedDueOn: '2026-07-31', reason: 'disks on order', requestedBy: sam.id });
    await w.sender.event({ type: 'app_home_opened', user: 'ULENA', channel: 'DLENA', tab: 'home', event_ts: '1700006002.000100' }, 'EvHOMEDECIDE');
    const home = await w.fake.waitForCall('views.publish', (c) => c.args.user_id === 'ULENA' && JSON.stringify(c.args.view.blocks).includes('SC-0901'));
    const shown = blockText(home.args.view.blocks);
    expect(shown).toContain('SC-0901 — new supplier: Home Hosting');
    expect(shown).toContain('PEX-0901 — POAM-0901 No home backups');
    const blocks = JSON.stringify(home.args.view.blocks);
    for (const command of ['triage accept SC-0901', 'triage reject SC-0901', 'poam approve PEX-0901', 'poam reject PEX-0901']) {
      expect(blocks).toContain(`"value":"${command}"`);
    }
  });
});
