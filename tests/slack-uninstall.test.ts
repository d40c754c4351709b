/**
 * The app removed from the workspace, or its tokens revoked: Slack says so with app_uninstalled or
 * tokens_revoked, and from then on refuses every call with invalid_auth, account_inactive or
 * token_revoked. The operator reads it once; the outbox fails those messages for good, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inArray } from 'drizzle-orm';
import { BOT_TOKEN, SlackWorkspace } from './helpers/fake-slack-workspace.js';
import { deliverDue } from '../src/core/delivery.js';
import { enqueue } from '../src/core/outbox.js';
import { replyText } from '../src/core/reply.js';
import { outbox, people, unreachablePeople } from '../src/db/schema/index.js';

let w: SlackWorkspace;
beforeAll(async () => { w = await SlackWorkspace.start(); });
afterAll(async () => { await w?.close(); });

const since = () => w.logs.lines.length;

describe('Slack telling the bot it lost the workspace', () => {
  it('logs one warning when the app is uninstalled, saying the bot can no longer post there', async () => {
    const from = since();
    const delivered = await w.sender.event({ type: 'app_uninstalled' }, 'EvUNINSTALL');
    expect(delivered.status).toBe(200);
    const line = await w.logs.waitFor((l) => /app_uninstalled/.test(l.msg ?? ''));
    expect(line).toMatchObject({ level: 40, team: 'T0TEST' });
    expect(line.msg).toContain('can no longer post there');
    expect(w.logs.lines.slice(from).filter((l) => l.level >= 40)).toHaveLength(1);
  });

  it('logs one warning, naming nobody, when the bot token is revoked', async () => {
    const from = since();
    const delivered = await w.sender.event({ type: 'tokens_revoked', tokens: { oauth: ['UOAUTHPERSON'], bot: ['UBOTREVOKED'] } }, 'EvREVOKED');
    expect(delivered.status).toBe(200);
    const line = await w.logs.waitFor((l) => /tokens_revoked/.test(l.msg ?? ''));
    expect(line).toMatchObject({ level: 40, team: 'T0TEST' });
    expect(line.msg).toContain('can no longer post to the workspace');
    expect(w.logs.lines.slice(from).filter((l) => l.level >= 40)).toHaveLength(1);
    expect(JSON.stringify(w.logs.lines.slice(from))).not.toMatch(/UOAUTHPERSON|UBOTREVOKED/);
  });
});

describe('the outbox once Slack refuses the bot token', () => {
  for (const refusal of ['token_revoked', 'invalid_auth', 'account_inactive']) {
    it(`fails each message for good, saying the app was removed, and logs it once (${refusal})`, async () => {
      w.fake.on('chat.postMessage', () => ({ ok: false, error: refusal }));
      try {
        const from = since();
        const keys = ['lead', 'staff', 'owner'].map((who) => `revoked-${refusal}-${who}`);
        for (const [i, who] of (['lead', 'staff', 'owner'] as const).entries()) {
          await enqueue(w.t.db, { recipientId: w.cast[who].id, kind: 'test', idempotencyKey: keys[i], reply: replyText('A nudge'), notBefore: new Date(Date.now() - 1000) });
        }
        await deliverDue(w.t.db, [w.slack.port]);
        await deliverDue(w.t.db, [w.slack.port], new Date(Date.now() + 24 * 3600_000));
        const rows = await w.t.db.select().from(outbox).where(inArray(outbox.idempotencyKey, keys));
        expect(rows.map((r) => [r.status, r.attempts])).toEqual([['failed', 1], ['failed', 1], ['failed', 1]]);
        for (const row of rows) expect(row.lastError).toContain(`Slack no longer accepts the bot token (${refusal}): the app was removed from the workspace or its tokens were revoked`);
        const loud = w.logs.lines.slice(from).filter((l) => l.level >= 40);
        // Logged once per process: the first refusal (in the first of these tests) said it.
        expect(loud.length).toBeLessThanOrEqual(1);
        expect(w.logs.lines.filter((l) => l.level >= 40 && /no longer accepts the bot token/.test(l.msg ?? ''))).toHaveLength(1);
        expect(w.logs.text()).not.toContain(BOT_TOKEN);
      } finally {
        w.fake.off('chat.postMessage');
      }
    });
  }
});

describe('people the bot has yet to look up by email once Slack refuses the bot token', () => {
  it('fails their messages for good at once, saying the app was removed, asking Slack once, and logs it once; a server error still waits', async () => {
    const newcomers = await w.t.db.insert(people).values(['nina', 'noah', 'nora'].map((n) => ({ name: `${n} Newcomer`, email: `${n}@test.example`, roles: ['staff' as const] }))).returning();
    for (const p of newcomers) w.fake.users.set(`UNEW${p.id}`, { email: p.email });
    const keys = newcomers.map((p) => `revoked-lookup-${p.id}`);
    for (const [i, p] of newcomers.entries()) {
      await enqueue(w.t.db, { recipientId: p.id, kind: 'test', idempotencyKey: keys[i], reply: replyText('Welcome: please acknowledge POL-0001.'), notBefore: new Date(Date.now() - 1000) });
    }
    const rows = () => w.t.db.select().from(outbox).where(inArray(outbox.idempotencyKey, keys));

    // Slack down for a moment: that may pass, so the messages wait.
    w.fake.failNext('users.lookupByEmail', 500);
    try {
      expect(await deliverDue(w.t.db, [w.slack.port])).toMatchObject({ sent: 0, failed: 0, waiting: 3 });
    } finally {
      w.fake.clearFailures();
    }
    expect((await rows()).map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);

    w.fake.on('users.lookupByEmail', () => ({ ok: false, error: 'token_revoked' }));
    try {
      const from = since();
      const lookups = w.fake.callsTo('users.lookupByEmail').length;
      expect(await deliverDue(w.t.db, [w.slack.port])).toMatchObject({ sent: 0, failed: 3, waiting: 0 });
      // Slack's first refusal is the answer for the rest of the batch: nobody else is looked up.
      expect(w.fake.callsTo('users.lookupByEmail').length - lookups).toBe(1);
      for (const row of await rows()) {
        expect(row.status).toBe('failed');
        expect(row.lastError).toContain('Slack no longer accepts the bot token (token_revoked): the app was removed from the workspace or its tokens were revoked');
      }
      // The ISMS lead's list of people the bot cannot reach says why, no longer the passing error.
      const listed = await w.t.db.select().from(unreachablePeople).where(inArray(unreachablePeople.personId, newcomers.map((p) => p.id)));
      expect(listed.map((u) => u.reason)).toEqual(newcomers.map(() => expect.stringContaining('Slack no longer accepts the bot token (token_revoked)')));
      expect(w.logs.lines.slice(from).filter((l) => l.level >= 40).length).toBeLessThanOrEqual(1);
      expect(w.logs.lines.filter((l) => l.level >= 40 && /no longer accepts the bot token/.test(l.msg ?? ''))).toHaveLength(1);
      expect(w.logs.text()).not.toContain(BOT_TOKEN);
    } finally {
      w.fake.off('users.lookupByEmail');
    }
  });
});
