import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aiTools, outbox, people, scopeChanges } from '../src/db/schema/index.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { findForm } from '../src/core/reply.js';

describe('/isms declare ai', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('records the tool with a register reference, a scope change, an audit event each, and tells the ISMS lead', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms declare ai ChatGPT "drafting emails" --vendor OpenAI --data internal,customer --users 12');
    expect(answer).toContain('AI-0001');
    const [tool] = await bot.t.db.select().from(aiTools);
    expect(tool).toMatchObject({ ref: 'AI-0001', name: 'ChatGPT', vendor: 'OpenAI', purpose: 'drafting emails', dataCategories: ['internal', 'customer'], userCount: 12, status: 'declared', declaredBy: bot.ids.staff });
    const [change] = await bot.t.db.select().from(scopeChanges);
    expect(change).toMatchObject({ kind: 'new_ai_usage', subjectRef: 'AI-0001', status: 'proposed' });
    expect(await bot.auditCount()).toBe(before + 2);
    const leadInbox = await bot.outboxFor('lead');
    expect(leadInbox.map((m) => m.kind)).toEqual(['triage']);
    expect(JSON.stringify(leadInbox[0].reply)).toContain(`triage accept ${change.ref}`);
  });

  it('numbers declarations without gaps', async () => {
    await bot.say('staff', '/isms declare ai ChatGPT'); // AI-0001
    expect(await bot.sayText('owner', '/isms declare ai Copilot')).toContain('AI-0002');
  });

  it('rejects an unknown data category, names it, and writes nothing', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms declare ai Gemini --data secret');
    expect(answer).toMatch(/data.*must be one of public, internal, confidential, personal, customer/);
    expect(answer).toContain('Nothing was recorded');
    expect(await bot.auditCount()).toBe(before);
  });

  it('a name pasted far too long is refused saying how long it may be and how long it was, and writes nothing', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', `/isms declare ai ${'x'.repeat(300)} --vendor OpenAI`);
    expect(answer).toContain('✖ That didn\'t work: tool: is too long: at most 200 characters, and this has 300. Nothing was recorded.');
    expect(answer).not.toContain('character(s)');
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(aiTools)).toEqual([]);
  });

  it('opens a form when given no arguments, and the submitted form records the tool', async () => {
    await bot.say('staff', '/isms declare ai ChatGPT'); // AI-0001
    await bot.say('owner', '/isms declare ai Copilot'); // AI-0002
    const form = findForm(await bot.say('staff', '/isms declare ai'));
    expect(form?.fields.map((f) => f.name)).toEqual(['tool', 'vendor', 'purpose', 'data', 'users']);
    const answer = await bot.router.submit('declare ai', { tool: 'Claude', data: ['personal'], users: '3' }, { actor: await bot.actor('staff'), channel: 'test' });
    expect(JSON.stringify(answer)).toContain('AI-0003');
  });

  it('records a delivery repeated by the platform once', async () => {
    const first = await bot.say('staff', '/isms declare ai Perplexity', { idempotencyKey: 'evt-1' });
    const again = await bot.say('staff', '/isms declare ai Perplexity', { idempotencyKey: 'evt-1' });
    expect(again).toEqual(first);
    const rows = (await bot.t.db.select().from(aiTools)).filter((r) => r.name === 'Perplexity');
    expect(rows).toHaveLength(1);
  });

  it('the sole ISMS lead\'s own declaration reaches every management-body member once, with the next references, also when delivered again', async () => {
    const [bea] = await bot.t.db.insert(people).values({ name: 'Bea Board', email: 'bea@test.example', roles: ['management_body'] }).returning();
    await bot.say('staff', '/isms declare ai ChatGPT'); // AI-0001, SC-0001
    const before = await bot.auditCount();
    const first = await bot.sayText('lead', '/isms declare ai Copilot --vendor Microsoft', { idempotencyKey: 'evt-lead' });
    const again = await bot.sayText('lead', '/isms declare ai Copilot --vendor Microsoft', { idempotencyKey: 'evt-lead' });
    expect(first).toContain('Recorded Copilot in the AI register as AI-0002. The ISMS lead will review it (SC-0002).');
    expect(again).toBe(first);
    expect(await bot.auditCount()).toBe(before + 2);
    const triage = (await bot.t.db.select().from(outbox)).filter((m) => JSON.stringify(m.reply).includes('SC-0002'));
    expect(triage.map((m) => m.recipientId).sort()).toEqual([bot.ids.board, bea.id].sort());
    expect(triage.every((m) => m.kind === 'triage' && JSON.stringify(m.reply).includes('triage accept SC-0002'))).toBe(true);
  });

  it('suggests the nearest command for a typo', async () => {
    expect(await bot.sayText('staff', '/isms declre ai X')).toContain('Did you mean "/isms declare ai"?');
  });
});

describe('/isms declare ai follow-up', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('asks only for what is still unknown, with the flags that add it', async () => {
    const answer = await bot.sayText('staff', '/isms declare ai Mistral --vendor "Mistral AI" --data internal --users 4');
    expect(answer).toContain('Still unknown: purpose. Add them with "/isms ai details AI-0001 --purpose …"');
  });
});
