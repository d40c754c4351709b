/**
 * The front door: a thread of its own owns the bot's port, acknowledges signed slash commands and
 * button clicks there and hands them to the bot; everything else (events, form submissions, forged or
 * stale requests, probes, Teams) reaches the bot's own server as it came. What people and operators
 * notice must be the same as without it: the same answers, the same refusals, nothing recorded twice.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aiTools } from '../src/db/schema/index.js';
import { createLane } from '../adapters/slack/front-lane.js';
import { EVENTS_PATH, SLASH_COMMAND } from '../adapters/slack/ids.js';
import { SECRET, SlackWorkspace, blockText, postedMessage, submission, unique } from './helpers/fake-slack-workspace.js';
import { deliverDue } from '../src/core/delivery.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { SlackSender, sign } from './helpers/slack-sign.js';
import { exampleRegister, serveBot, type Register } from './helpers/process.js';
import { fieldBlockId } from '../adapters/slack/ids.js';

describe('Slack through the front door', () => {
  let w: SlackWorkspace;
  beforeAll(async () => { w = await SlackWorkspace.start({}, undefined, { frontDoor: true }); }, 60_000);
  afterAll(async () => { await w?.close(); });

  it('acknowledges a slash command at once with an empty answer, then answers it privately and records it once', async () => {
    const before = await w.auditCount();
    const ack = await w.sender.command(w.slashCommand('USAM', 'declare ai Copilot "code review" --vendor GitHub', 'door-declare'));
    expect(ack).toMatchObject({ status: 200, body: '' });
    const answer = await w.responseTo('door-declare');
    expect(answer.args).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer.args.text)).toContain('Copilot');
    expect((await w.t.db.select().from(aiTools)).filter((r) => r.name === 'Copilot')).toHaveLength(1);
    expect(await w.auditCount()).toBeGreaterThan(before);
  });

  it('refuses a forged or stale command with 401, as Bolt does, and records nothing', async () => {
    const before = await w.auditCount();
    const forged = await w.sender.command(w.slashCommand('USAM', 'declare ai Forged', 'forged'), { secret: 'not-the-secret' });
    const stale = await w.sender.command(w.slashCommand('USAM', 'declare ai Stale', 'stale'), { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect([forged.status, stale.status]).toEqual([401, 401]);
    expect(await w.auditCount()).toBe(before);
    expect(w.fake.callsTo('response_url').filter((c) => c.args.id === 'forged' || c.args.id === 'stale')).toHaveLength(0);
  });

  it('passes a form submission to the bot, whose acknowledgement carries the field error', async () => {
    const trigger = unique('trigger');
    await w.sender.command(w.slashCommand('USAM', 'declare ai', unique('form'), trigger));
    const update = await w.updateOf(await w.openedWith(trigger));
    const response = await w.sender.interaction(submission('USAM', { ...update.args.view, id: update.args.view_id }, {
      [fieldBlockId('tool')]: { value: 'Gemini' },
      [fieldBlockId('users')]: { value: '0' },
    }));
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ response_action: 'errors', errors: { [fieldBlockId('users')]: 'must be at least 1' } });
    expect((await w.t.db.select().from(aiTools)).filter((r) => r.name === 'Gemini')).toHaveLength(0);
  });

  it('passes Slack\'s URL verification through, and says 404 for what is not served', async () => {
    const base = new URL(w.sender.url).origin;
    const challenge = await w.sender.send(JSON.stringify({ type: 'url_verification', token: 'legacy', challenge: 'c-123' }), 'application/json');
    expect(challenge.json()).toEqual({ challenge: 'c-123' });
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
  });

  it('acknowledges a click at once and runs the command its button names', async () => {
    await w.sender.command(w.slashCommand('USAM', 'declare ai Claude "drafting" --vendor Anthropic', 'door-triage'));
    await w.responseTo('door-triage');
    await deliverDue(w.t.db, [w.slack.port]);
    const triage = w.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'ULENA' && String(c.args.text).includes('Claude'));
    expect(triage).toBeDefined();
    const click = await w.sender.interaction(w.clickPayload('ULENA', postedMessage(triage!), 'Accept', 'door-accept'));
    expect(click).toMatchObject({ status: 200, body: '' });
    // The decision shows in place of the triage message.
    const message = postedMessage(triage!);
    const updated = await w.fake.waitForCall('chat.update', (c) => c.args.ts === message.ts);
    expect(blockText(updated.args.blocks as any[])).toMatch(/accepted/i);
  });
});

describe('Slack through the front door, while the bot stops', () => {
  let w: SlackWorkspace | undefined;
  afterEach(async () => { await w?.close(); w = undefined; });

  it('while stopping, refuses new commands with 503 so that Slack does not count them as answered', async () => {
    w = await SlackWorkspace.start({}, undefined, { frontDoor: true });
    w.http.drain();
    const refused = await w.sender.command(w.slashCommand('USAM', 'declare ai Late', 'late'));
    expect(refused.status).toBe(503);
    expect(await w.t.db.select().from(aiTools)).toHaveLength(0);
  });
});

describe('the Slack lane', () => {
  const lane = createLane({ signingSecret: SECRET, limit: 1, busyAnswer: '{"text":"busy"}' });
  const request = (body: string, options: { secret?: string; contentType?: string } = {}) => {
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      method: 'POST', path: EVENTS_PATH, body: Buffer.from(body),
      headers: { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(body, options.secret ?? SECRET, timestamp) },
    };
  };
  const command = new URLSearchParams({ command: SLASH_COMMAND, text: 'help', user_id: 'USAM' }).toString();

  it('takes signed commands and clicks, answers "busy" past the limit, and leaves everything else to Bolt', () => {
    expect(lane(request(command), 0)).toMatchObject({ status: 200, forward: { body: command } });
    expect(lane(request(command), 1)).toMatchObject({ status: 200, body: '{"text":"busy"}', forward: { busy: true } });
    const click = new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', actions: [] }) }).toString();
    expect(lane(request(click), 5)).toMatchObject({ status: 200, forward: { body: click } });
    // Form submissions answer in their acknowledgement; events, forged requests and other types go to Bolt.
    expect(lane(request(new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission' }) }).toString()), 0)).toBeUndefined();
    expect(lane(request(JSON.stringify({ type: 'event_callback' }), { contentType: 'application/json' }), 0)).toBeUndefined();
    expect(lane(request(command, { secret: 'forged' }), 0)).toBeUndefined();
    expect(lane(request('payload=%7Bnot-json'), 0)).toBeUndefined();
  });
});

/** The nice value of each of a process's threads, by thread id (Linux /proc). */
function niceOf(pid: number): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nice;
}

describe('the bot serving Slack and Teams', () => {
  let register: Register;
  let slack: FakeSlack;
  let bot: ChildProcess | undefined;
  beforeAll(async () => {
    register = await exampleRegister();
    slack = await FakeSlack.start();
  }, 120_000);
  afterAll(async () => {
    bot?.kill('SIGKILL');
    await slack?.close();
    await register?.dispose();
  }, 120_000);

  it('answers Slack from its front door, passes Teams on, and runs commands at a lower priority than the acknowledgements', async () => {
    const serving = await serveBot(register, {
      SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-front-door', SLACK_API_URL: slack.apiUrl, TEAMS_ENABLED: 'true', ISMS_COMMAND_NICE: '7',
    }, 120_000);
    bot = serving.child;
    const sender = new SlackSender(`${serving.base}${EVENTS_PATH}`, SECRET);
    const ack = await sender.command({
      token: 'legacy', team_id: 'T0TEST', channel_id: 'CGENERAL', user_id: 'U05A1B2C3D4', user_name: 'iris', command: SLASH_COMMAND, text: 'help',
      api_app_id: 'A0TEST', response_url: slack.responseUrl('help'), trigger_id: slack.trigger(unique('trigger')),
    });
    expect(ack).toMatchObject({ status: 200, body: '' });
    expect(String((await slack.waitForCall('response_url', (c) => c.args.id === 'help', 60_000)).args.text)).toMatch(/isms/i);
    // Teams (unauthenticated, local) reaches the bot's own server through the front door: a malformed activity is refused by it.
    const teams = await fetch(`${serving.base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(teams.status).toBeGreaterThanOrEqual(400);
    expect(teams.status).toBeLessThan(500);
    // The main thread (its id is the process's) runs the commands; the front door's thread keeps the default.
    const nice = niceOf(bot.pid!);
    expect(nice.get(bot.pid!)).toBe(7);
    expect([...nice.values()]).toContain(0);
  }, 180_000);
});
