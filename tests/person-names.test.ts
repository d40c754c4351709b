import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { loadReferenceData } from '../src/refdata/index.js';
import { assets, auditFindings, people, poamItems, risks } from '../src/db/schema/index.js';

/** People are named in commands as they type them: an email, a name, part of a name, or an @handle. */
describe('naming a person in a command option', () => {
  let bot: TestBot;
  let lenaFischer: number;
  const now = new Date('2026-10-01T09:00:00Z');
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db); // findings name clauses of the loaded framework
    [{ id: lenaFischer }] = await bot.t.db.insert(people).values([
      { name: 'Lena Fischer', email: 'lena.fischer@test.example', roles: ['staff'], timezone: 'Europe/Berlin' },
      { name: 'Fiona Fischbach', email: 'fiona@test.example', roles: ['staff'], timezone: 'Europe/Berlin' },
    ]).returning();
  });
  afterEach(async () => { await bot.destroy(); });

  const riskOwner = async (title: string) => (await bot.t.db.select().from(risks).where(eq(risks.title, title)))[0]?.ownerId;

  it('takes an @handle, a name in quotes or a unique part of a name for a risk, asset and finding owner, and stores the person', async () => {
    for (const [title, owner] of [['Laptop theft', '@lena.fischer'], ['Phishing', '"Lena Fischer"'], ['Backup loss', '@lena_fischer'], ['Flood', 'Fischer']]) {
      const said = await bot.sayText('lead', `/isms risk add "${title}" "x" --likelihood 2 --impact 3 --treatment mitigate --owner ${owner}`, { now });
      expect(said, owner).not.toContain('must be an email address');
      expect(await riskOwner(title), owner).toBe(lenaFischer);
    }
    await bot.sayText('lead', '/isms risk add "Fire" "x" --likelihood 2 --impact 3 --treatment mitigate --owner @olga', { now });
    expect(await riskOwner('Fire')).toBe(bot.ids.owner);

    await bot.sayText('lead', '/isms asset add CRM "Customer records" --owner @lena.fischer', { now });
    expect((await bot.t.db.select().from(assets).where(eq(assets.name, 'CRM')))[0]?.ownerId).toBe(lenaFischer);

    const finding = await bot.sayText('lead', '/isms finding add major_nc 8.1 "No change control" --owner Olga --due 2026-12-01', { now });
    expect(finding).not.toContain('must be');
    const [item] = await bot.t.db.select().from(poamItems);
    expect(item?.ownerId).toBe(bot.ids.owner);
  });

  it('refuses a name that could be several people, naming them, and one nobody has, with the closest; nothing is written', async () => {
    const audit = await bot.auditCount();
    const several = await bot.sayText('lead', '/isms risk add "Laptop theft" "x" --likelihood 2 --impact 3 --treatment mitigate --owner Fisch', { now });
    expect(several).toContain('owner: "Fisch" matches 2 people: Lena Fischer <lena.fischer@test.example>, Fiona Fischbach <fiona@test.example>');
    const nobody = await bot.sayText('lead', '/isms asset add CRM "Customer records" --owner @lena.fisher', { now });
    expect(nobody).toContain('owner: nobody in the register matches "@lena.fisher". Did you mean Lena Fischer <lena.fischer@test.example>?');
    const finding = await bot.sayText('lead', '/isms finding add major_nc 8.1 "No change control" --owner @nobody --due 2026-12-01', { now });
    expect(finding).toContain('owner: nobody in the register matches "@nobody"');
    expect(await bot.t.db.select().from(risks)).toEqual([]);
    expect(await bot.t.db.select().from(assets)).toEqual([]);
    expect(await bot.t.db.select().from(auditFindings)).toEqual([]);
    expect(await bot.auditCount()).toBe(audit);
  });
});
