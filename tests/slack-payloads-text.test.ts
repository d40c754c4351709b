/**
 * Text as Slack reads what the bot sends: the notification text of the bot's messages, which Slack
 * reads as mrkdwn like the blocks (&, < and > escaped).
 * One workspace for the file; each test uses its own people, messages and event ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPolicy, addPolicyVersion } from './helpers/fixtures.js';
import { SlackWorkspace, postedMessage } from './helpers/fake-slack-workspace.js';
import { actions, reply, text } from '../src/core/reply.js';
import { people } from '../src/db/schema/index.js';

let w: SlackWorkspace;

beforeAll(async () => {
  w = await SlackWorkspace.start();
});

afterAll(async () => {
  await w?.close();
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
