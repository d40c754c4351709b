import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc, eq, gt } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { assets, auditEvents, people } from '../src/db/schema/index.js';
import { importYaml, ImportError, type ImportProgress } from '../src/import/index.js';
import { verifyRegister } from '../src/core/verify.js';

/** Quoted text as people write it: apostrophes, escapes, quotes inside, and plain runs of words. */
const FILE = `
people:
  - { name: "Ann O'Neil", email: "ann@example.org", roles: [staff] }
  - { name: "Bob \\"Bobby\\" Stone", email: bob@example.org, roles: [asset_owner] }
assets:
  - name: "Payroll"
    description: "Salaries, bank details; it's kept 10 years. Tab\\there."
    owner: "bob@example.org"
  - { name: 'Wiki', description: "Plain words only", owner: ann@example.org }
  - { name: "CRM", description: "", owner: ann@example.org }
`;

describe('importing a large file', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await t.destroy(); });

  it('says how far each section got, and reads double-quoted text exactly as written', async () => {
    const progress: ImportProgress[] = [];
    await expect(importYaml(t.db, FILE, 'org.yaml', { onProgress: (p) => progress.push(p) })).rejects.toThrow(ImportError);
    const fixed = FILE.replace('description: "", ', '');
    await importYaml(t.db, fixed, 'org.yaml', { onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([{ section: 'people', done: 2, total: 2 }, { section: 'assets', done: 3, total: 3 }]);
    expect((await t.db.select().from(people).orderBy(asc(people.id))).map((p) => p.name)).toEqual(["Ann O'Neil", 'Bob "Bobby" Stone']);
    expect((await t.db.select().from(assets).orderBy(asc(assets.id))).map((a) => [a.name, a.description]))
      .toEqual([['Payroll', "Salaries, bank details; it's kept 10 years. Tab\there."], ['Wiki', 'Plain words only'], ['CRM', null]]);
  });

  it('names the line of a bad field after quoted text with apostrophes', async () => {
    const bad = FILE.replace('description: "", owner: ann@example.org', 'owner: "nobody at all"');
    const error = await importYaml(t.db, bad, 'org.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as ImportError).message).toBe('org.yaml:10: assets[2].owner: must be an email address');
    expect(await t.db.select().from(people)).toEqual([]);
  });

  it('imports more entries than one statement carries: each once, in file order, one audit event each, and the register verifies', async () => {
    const n = 450;
    const file = (description: (i: number) => string, refOf?: (i: number) => string | undefined) => ['people:',
      ...Array.from({ length: n }, (_, i) => `  - { name: "Person ${i}", email: p${i}@example.org, roles: [staff]${i ? `, manager: p${Math.floor((i - 1) / 10)}@example.org` : ''} }`),
      'assets:',
      ...Array.from({ length: n }, (_, i) => `  - { ${refOf?.(i) ? `ref: ${refOf(i)}, ` : ''}name: "Asset ${i}", description: "${description(i)}", owner: p${i % 7}@example.org }`),
    ].join('\n');
    const eventsAfter = async (seq: number) => (await t.db.select().from(auditEvents).where(gt(auditEvents.seq, seq)).orderBy(asc(auditEvents.seq)))
      .map((e) => `${e.action} ${e.entity} ${e.entityRef}`);
    const progress: ImportProgress[] = [];
    const counts = await importYaml(t.db, file((i) => `first ${i}`), 'big.yaml', { onProgress: (p) => progress.push(p) });
    expect(counts).toEqual({ people: { created: n, updated: 0, unchanged: 0 }, assets: { created: n, updated: 0, unchanged: 0 } });
    expect(progress).toEqual([{ section: 'people', done: n, total: n }, { section: 'assets', done: n, total: n }]);
    const ref = (i: number) => `AST-${String(i + 1).padStart(4, '0')}`;
    const written = await t.db.select({ ref: assets.ref, name: assets.name, description: assets.description, owner: people.email })
      .from(assets).innerJoin(people, eq(people.id, assets.ownerId)).orderBy(asc(assets.id));
    expect(written).toEqual(Array.from({ length: n }, (_, i) => ({ ref: ref(i), name: `Asset ${i}`, description: `first ${i}`, owner: `p${i % 7}@example.org` })));
    const [p321] = await t.db.select().from(people).where(eq(people.email, 'p321@example.org'));
    const [p32] = await t.db.select().from(people).where(eq(people.email, 'p32@example.org'));
    expect(p321.managerId).toBe(p32.id);
    expect(await eventsAfter(0)).toEqual([
      ...Array.from({ length: n }, (_, i) => `create person p${i}@example.org`), ...Array.from({ length: n }, (_, i) => `create asset ${ref(i)}`)]);
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true });

    // Again, with every third description changed and one entry named by its reference.
    const [{ seq }] = await t.db.select({ seq: auditEvents.seq }).from(auditEvents).orderBy(asc(auditEvents.seq)).limit(1).offset(2 * n - 1);
    const again = await importYaml(t.db, file((i) => (i % 3 === 0 ? `second ${i}` : `first ${i}`), (i) => (i === 250 ? ref(250) : undefined)), 'big.yaml');
    expect(again).toEqual({ people: { created: 0, updated: 0, unchanged: n }, assets: { created: 0, updated: n / 3, unchanged: n - n / 3 } });
    expect(await eventsAfter(seq)).toEqual(Array.from({ length: n / 3 }, (_, k) => `update asset ${ref(3 * k)}`));
    expect((await t.db.select().from(assets).where(eq(assets.ref, ref(249))))[0].description).toBe('second 249');
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true });
  });
});
