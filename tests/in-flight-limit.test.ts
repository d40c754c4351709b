/**
 * Bounded queueing: past ISMS_MAX_IN_FLIGHT commands accepted and not answered yet, a new command is
 * acknowledged at once and answered "busy" without running, on Slack and on Teams. Commands are held
 * in flight by the outside world answering slowly (the fake Slack Web API, the fake Bot Connector).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aiTools } from '../src/db/schema/index.js';
import { BUSY_TEXT } from '../src/core/inbound.js';
import { SlackWorkspace, unique } from './helpers/fake-slack-workspace.js';
import { cardOf, cardText, personalMessage, startTeamsStack, type TeamsStack } from './helpers/teams.js';

const WAIT = { timeout: 15_000 };

// With its front door (a thread of its own acknowledging commands, as the bot serves) and without.
describe.each([false, true])('Slack, with at most two commands in flight (front door: %s)', (frontDoor) => {
  let w: SlackWorkspace | undefined;
  afterEach(async () => { await w?.close(); w = undefined; });

  it('answers a third command "busy" at once and records nothing; once the two are answered, commands run again', async () => {
    w = await SlackWorkspace.start({ ISMS_MAX_IN_FLIGHT: '2' }, undefined, { frontDoor });
    const ws = w;
    // A command without arguments opens its form: Slack is slow to open it, so both stay in flight.
    const release = ws.fake.hold('views.open');
    for (const id of ['form-1', 'form-2']) expect((await ws.sender.command(ws.slashCommand('USAM', 'declare ai', id, `trigger-${id}`))).status).toBe(200);
    await vi.waitFor(() => expect(ws.fake.waitingOn('views.open')).toBe(2), WAIT);
    const auditBefore = await ws.auditCount();

    // The answer comes with the acknowledgement, privately.
    const busy = await ws.sender.command(ws.slashCommand('USAM', 'declare ai Copilot "code review" --vendor GitHub', 'busy'));
    expect(busy.status).toBe(200);
    expect(busy.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(BUSY_TEXT) });
    expect(await ws.t.db.select().from(aiTools)).toHaveLength(0);
    expect(await ws.auditCount()).toBe(auditBefore);
    // The refusal is counted for the operator.
    await ws.logs.waitFor((l) => String(l.msg).startsWith('busy:') && l.refused >= 1);

    release();
    await ws.updateOf(await ws.openedWith('trigger-form-1'));
    await ws.updateOf(await ws.openedWith('trigger-form-2'));
    // The two finish answering; then a command is taken on again.
    await vi.waitFor(async () => {
      expect((await ws.sender.command(ws.slashCommand('USAM', 'help', unique('help')))).body).not.toContain('busy');
    }, WAIT);
    await ws.sender.command(ws.slashCommand('USAM', 'declare ai Copilot "code review" --vendor GitHub', 'again'));
    const recorded = await ws.fake.waitForCall('response_url', (c) => c.args.id === 'again', 60_000);
    expect(recorded.args.text).toContain('Copilot');
    expect(await ws.t.db.select().from(aiTools)).toMatchObject([{ name: 'Copilot' }]);
  });
});

describe('Teams, with at most two messages in flight', () => {
  let stack: TeamsStack | undefined;
  afterEach(async () => { await stack?.stop(); stack = undefined; });

  it('answers a third message "busy" and records nothing', async () => {
    stack = await startTeamsStack({ ISMS_MAX_IN_FLIGHT: '2' });
    const { server, connector, h } = stack;
    const message = (...args: Parameters<typeof personalMessage>) => ({ ...personalMessage(...args), serviceUrl: connector.url });
    // The Bot Connector takes its time with the answers: both turns stay in flight.
    connector.holdPosts = true;
    const first = server.post(message('staff', 'help'));
    const second = server.post(message('lead', 'help'));
    await vi.waitFor(() => expect(connector.held).toHaveLength(2), WAIT);
    const auditBefore = await h.auditCount();

    const third = message('staff', 'declare ai Copilot "code review" --vendor GitHub');
    const busy = server.post(third);
    await vi.waitFor(() => expect(connector.held).toHaveLength(3), WAIT);
    connector.holdPosts = false;
    for (const held of connector.held) held.release();
    expect((await busy).status).toBe(200);
    const [answer] = connector.posted.filter((p) => p.replyToId === third.id);
    expect(cardText(cardOf(answer.activity))).toContain(BUSY_TEXT);
    expect(await h.t.db.select().from(aiTools)).toHaveLength(0);
    expect(await h.auditCount()).toBe(auditBefore);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);

    const again = message('staff', 'declare ai Copilot "code review" --vendor GitHub');
    expect((await server.post(again)).status).toBe(200);
    const [recorded] = connector.posted.filter((p) => p.replyToId === again.id);
    expect(cardText(cardOf(recorded.activity))).not.toContain(BUSY_TEXT);
    expect(await h.t.db.select().from(aiTools)).toMatchObject([{ name: 'Copilot' }]);
  });
});
