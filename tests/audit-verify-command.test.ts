import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { auditSeededRows } from './helpers/fixtures.js';

describe('/isms audit verify', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('is refused to staff', async () => {
    expect(await bot.sayText('staff', '/isms audit verify')).toContain('Only the ISMS lead or an auditor may use "/isms audit verify"');
  });

  it('reports an intact trail, then names the event someone altered in the database', async () => {
    await bot.say('staff', '/isms declare ai ChatGPT');
    await bot.say('owner', '/isms declare ai Copilot');
    await auditSeededRows(bot.t.db);
    expect(await bot.sayText('auditor', '/isms audit verify')).toContain('Audit trail intact: 9 events');
    await bot.t.db.execute(sql`alter table audit_events disable trigger audit_events_no_change`);
    await bot.t.db.execute(sql`update audit_events set after = jsonb_set(after, '{name}', '"Harmless tool"') where seq = 3`);
    await bot.t.db.execute(sql`alter table audit_events enable trigger audit_events_no_change`);
    expect(await bot.sayText('lead', '/isms audit verify')).toContain('Audit trail broken at event #3');
  });
});
