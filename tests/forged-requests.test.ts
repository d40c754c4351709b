import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { aiTools } from '../src/db/schema/index.js';
import { sign } from './helpers/slack-sign.js';
import { SECRET, SlackWorkspace, submission, unique } from './helpers/fake-slack-workspace.js';
import { fieldBlockId } from '../adapters/slack/ids.js';

/**
 * Requests someone other than Slack made, or a copy of one Slack made, sent again: what was forged
 * runs nothing, and what is replayed within Slack's five minutes is recorded once.
 * (A wrong secret and a timestamp older than five minutes are in slack.test.ts.)
 */
const WAIT = { timeout: 30_000, interval: 50 };

describe('Slack: forged and replayed requests', () => {
  let w: SlackWorkspace;
  beforeAll(async () => { w = await SlackWorkspace.start(); });
  afterAll(async () => { await w?.close(); });

  const toolsNamed = async (name: string) => w.t.db.select().from(aiTools).where(eq(aiTools.name, name));
  const post = (body: string, headers: Record<string, string>) => fetch(w.sender.url, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body,
  });
  const slashBody = (typed: string) => new URLSearchParams(w.slashCommand('USAM', typed, unique('r'))).toString();

  it('refuses a request without a signature, and one whose body was changed after it was signed, and runs nothing', async () => {
    const before = await w.auditCount();
    const now = Math.floor(Date.now() / 1000);
    const unsigned = await post(slashBody('declare ai Unsigned'), { 'x-slack-request-timestamp': String(now) });
    const signedBody = slashBody('declare ai Harmless');
    const tampered = await post(signedBody.replace('Harmless', 'Tampered'), {
      'x-slack-request-timestamp': String(now), 'x-slack-signature': sign(signedBody, SECRET, now),
    });
    // The signature of one moment, sent with another timestamp: what is signed is "v0:<timestamp>:<body>".
    const retimed = await post(signedBody, { 'x-slack-request-timestamp': String(now + 1), 'x-slack-signature': sign(signedBody, SECRET, now) });
    expect([unsigned.status, tampered.status, retimed.status]).toEqual([401, 401, 401]);
    expect(await toolsNamed('Unsigned')).toHaveLength(0);
    expect(await toolsNamed('Tampered')).toHaveLength(0);
    expect(await toolsNamed('Harmless')).toHaveLength(0);
    expect(await w.auditCount()).toBe(before);
  });

  it('records a slash command replayed byte for byte within five minutes once, however often and however fast it comes', async () => {
    const fields = w.slashCommand('USAM', 'declare ai Replayed "summaries"', unique('r'));
    const timestamp = Math.floor(Date.now() / 1000) - 60;
    const first = await w.sender.command(fields, { timestamp });
    const copies = await Promise.all([1, 2, 3].map(() => w.sender.command(fields, { timestamp })));
    expect([first, ...copies].map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await vi.waitFor(async () => expect(await toolsNamed('Replayed')).toHaveLength(1), WAIT);
    const audits = await w.auditCount();
    await w.sender.command(fields, { timestamp });
    await vi.waitFor(() => expect(w.fake.callsTo('response_url').filter((c) => c.args.id === fields.response_url.split('/').pop()).length).toBeGreaterThan(0), WAIT);
    expect(await toolsNamed('Replayed')).toHaveLength(1);
    expect(await w.auditCount()).toBe(audits);
  });

  it('records a form submission replayed byte for byte once', async () => {
    const view = await w.formOf('USAM', 'declare ai');
    const payload = submission('USAM', view, { [fieldBlockId('tool')]: { value: 'Resubmitted' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const answers = await Promise.all([0, 1, 2].map(() => w.sender.interaction(payload, { timestamp })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await vi.waitFor(async () => expect(await toolsNamed('Resubmitted')).toHaveLength(1), WAIT);
    const audits = await w.auditCount();
    expect((await w.sender.interaction(payload, { timestamp })).status).toBe(200);
    expect(await toolsNamed('Resubmitted')).toHaveLength(1);
    expect(await w.auditCount()).toBe(audits);
  });
});
