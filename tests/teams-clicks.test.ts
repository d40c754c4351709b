import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { aiTools, scopeChanges } from '../src/db/schema/index.js';
import { deliverDue } from '../src/core/delivery.js';
import type { FakeConnector } from './helpers/fake-connector.js';
import {
  startTeamsStack, personalMessage, clickActivity, cardOf, cardText, personalChatOf,
  type TeamsServer, type TeamsStack, type TeamsTestCore,
} from './helpers/teams.js';
import type { CastKey } from './helpers/bot.js';

/**
 * Clicks on a card's Action.Submit, as Teams sends them: a message activity whose `value` is the
 * action's data with the card's inputs, `replyToId` the card's message. The Bot Connector delivers
 * an activity again (same id) when the bot's 200 came late; a double click is two activities.
 */
describe('Teams card clicks delivered again, and double clicks', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeAll(async () => { ({ h, server, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());
  afterEach(() => connector.clearFailures());

  const message = (...args: Parameters<typeof personalMessage>) => ({ ...personalMessage(...args), serviceUrl: connector.url });
  /** POSTs an activity; gives the texts of the messages the bot posted and the cards it replaced meanwhile. */
  const post = async (activity: Record<string, unknown>) => {
    const posted = connector.posted.length;
    const updated = connector.updated.length;
    const res = await server.post(activity);
    expect(res.status).toBe(200);
    return {
      posted: connector.posted.slice(posted).map((p) => cardText(cardOf(p.activity))),
      updated: connector.updated.slice(updated).map((u) => ({ id: u.activityId, text: cardText(cardOf(u.activity)) })),
    };
  };
  /** The "declare ai" form as it was posted into the person's personal chat. */
  const declareForm = async (who: CastKey) => {
    await post(message(who, 'declare ai'));
    const form = connector.postedTo(personalChatOf(who)).at(-1)!;
    expect(cardText(cardOf(form.activity))).toContain('Declare an AI tool');
    return form;
  };
  const click = (who: CastKey, card: { id: string; activity: Record<string, any> }, title: string, inputs: Record<string, string> = {}) =>
    ({ ...clickActivity(who, cardOf(card.activity), title, inputs, { replyToId: card.id }), serviceUrl: connector.url });

  it('answers a refused form submission Teams delivers again (same activity id) once', async () => {
    const form = await declareForm('staff');
    const submitted = click('staff', form, 'Declare', { tool: 'Gemini', users: '0' });
    const first = await post(submitted);
    expect(first.posted).toEqual([expect.stringContaining('users: must be at least 1')]);
    expect(await post(submitted)).toEqual({ posted: [], updated: [] });
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Gemini'))).toEqual([]);
  });

  it('does not answer a click again when the Bot Connector took the answer but answered with a 504', async () => {
    const form = await declareForm('staff');
    const submitted = click('staff', form, 'Declare', { tool: 'Gemini', users: '0' });
    connector.loseAnswerAfterPosting('gateway-timeout');
    const first = await post(submitted);
    // The answer probably arrived: no "something went wrong, nothing was recorded" follows it.
    expect(first.posted).toEqual([expect.stringContaining('users: must be at least 1')]);
    expect(await post(submitted)).toEqual({ posted: [], updated: [] });
  });

  for (const [lost, answer] of [['gateway-timeout', 'a 504'], ['reset', 'a connection closed without an answer']] as const) {
    it(`never says "nothing was recorded" after a recorded click whose card update the Bot Connector took but answered with ${answer}`, async () => {
      const form = await declareForm('staff');
      const submitted = click('staff', form, 'Declare', { tool: `Updated-${lost}`, users: '2' });
      connector.loseAnswerAfterPosting(lost);
      const first = await post(submitted);
      expect(first.updated).toEqual([{ id: form.id, text: expect.stringContaining(`Recorded Updated-${lost} in the AI register`) }]);
      expect(first.posted.join('\n')).not.toContain('nothing was recorded');
      expect(await post(submitted)).toEqual({ posted: [], updated: [] });
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, `Updated-${lost}`))).toHaveLength(1);
    });
  }

  it('answers a recorded click again, recording it once, when its card update surely did not reach the Bot Connector (503 after the retries)', async () => {
    const form = await declareForm('staff');
    const submitted = click('staff', form, 'Declare', { tool: 'Mistral', users: '2' });
    // The first try and each retry of the turn's client are refused; what follows (the apology) gets through.
    connector.failNext(4, 503, 0);
    const first = await post(submitted);
    expect(first).toEqual({ posted: [expect.stringContaining('Your request was recorded, but its answer may not have reached you')], updated: [] });
    const again = await post(submitted);
    expect(again).toEqual({ posted: [], updated: [{ id: form.id, text: expect.stringContaining('Recorded Mistral in the AI register') }] });
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Mistral'))).toHaveLength(1);
  });

  it('records a form submitted twice (a double click: two activities) once, and replaces the card once', async () => {
    const form = await declareForm('staff');
    const inputs = { tool: 'Claude', vendor: 'Anthropic', users: '3' };
    const audits = await h.auditCount();
    const first = await post(click('staff', form, 'Declare', inputs));
    const second = await post(click('staff', form, 'Declare', inputs));
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Claude'))).toHaveLength(1);
    expect(await h.auditCount()).toBe(audits + 2);
    expect(first.posted).toEqual([]);
    expect(first.updated).toEqual([{ id: form.id, text: expect.stringMatching(/Recorded Claude in the AI register as AI-\d+[\s\S]*Recorded by Sam Staff/) }]);
    expect(second).toEqual({ posted: [], updated: [] });
  });

  it('records a form submitted twice at once once, and replaces the card once', async () => {
    const form = await declareForm('owner');
    const inputs = { tool: 'Copilot', vendor: 'Microsoft', users: '5' };
    const posted = connector.posted.length;
    const updated = connector.updated.length;
    const answers = await Promise.all([server.answer(click('owner', form, 'Declare', inputs)), server.answer(click('owner', form, 'Declare', inputs))]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await server.settled();
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Copilot'))).toHaveLength(1);
    expect(connector.posted.slice(posted)).toEqual([]);
    expect(connector.updated.slice(updated).map((u) => [u.activityId, cardText(cardOf(u.activity))])).toEqual([[form.id, expect.stringContaining('Recorded Copilot in the AI register')]]);
  });

  it('records a triage decision clicked twice once, and says nothing more than the replaced card', async () => {
    await post(message('lead', 'help'));
    await post(message('staff', 'declare ai Perplexity'));
    const before = connector.posted.length;
    await deliverDue(h.t.db, [server.port]);
    const triage = connector.posted.slice(before).find((p) => cardText(cardOf(p.activity)).includes('Perplexity'))!;
    const first = await post(click('lead', triage, 'Accept'));
    const audits = await h.auditCount();
    const second = await post(click('lead', triage, 'Accept'));
    expect(first.updated).toEqual([{ id: triage.id, text: expect.stringContaining('Recorded by Lena Lead') }]);
    expect(second).toEqual({ posted: [], updated: [] });
    expect(await h.auditCount()).toBe(audits);
    const changes = await h.t.db.select().from(scopeChanges);
    expect(changes.filter((c) => c.status === 'accepted')).toHaveLength(1);
  });
});
