import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inArray } from 'drizzle-orm';
import { people, policies, policyAcknowledgements, policyVersions } from '../src/db/schema/index.js';
import { programmeFigures } from '../src/domain/status/queries.js';
import type { Db } from '../src/db/client.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/** A fixed sequence of pseudo-random numbers in [0, 1): the same varied register on every run. */
function numbers(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/**
 * The policy acknowledgement figures worked out from the whole register read back, in code: the version in
 * force of each policy is its highest major.minor (1.10 above 1.9); everyone in scope owes each of them, on
 * leave or not; an acknowledgement counts when it is of a version in force by someone in scope.
 */
async function expectedFigures(db: Db): Promise<{ policyAcks: number; policyAcksExpected: number }> {
  const versions = await db.select().from(policyVersions);
  const inForce = new Map<number, (typeof versions)[number]>();
  for (const v of versions) {
    const best = inForce.get(v.policyId);
    if (!best || v.major > best.major || (v.major === best.major && v.minor > best.minor)) inForce.set(v.policyId, v);
  }
  const inForceIds = new Set([...inForce.values()].map((v) => v.id));
  const inScope = new Set((await db.select().from(people)).filter((p) => p.inScope).map((p) => p.id));
  const acks = await db.select().from(policyAcknowledgements);
  return {
    policyAcks: acks.filter((a) => inForceIds.has(a.policyVersionId) && inScope.has(a.personId)).length,
    policyAcksExpected: inForce.size * inScope.size,
  };
}

describe('policy acknowledgement figures of `status` and the review pack', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await t.destroy(); });

  it('equal the acknowledgements of the versions in force by people in scope, worked out from the whole register, as it changes', async () => {
    const db = t.db;
    const random = numbers(20261206);
    const pick = <T>(list: T[], share: number) => list.filter(() => random() < share);
    const figures = async () => {
      const f = await programmeFigures(db, '2026-12-06');
      return { policyAcks: f.policyAcks, policyAcksExpected: f.policyAcksExpected };
    };

    // Sixty people: some outside scope, some on leave (still owing every policy).
    const staff = await db.insert(people).values(Array.from({ length: 60 }, (_, i) => ({
      name: `Person ${i + 1}`, email: `p${i + 1}@figures.example`, roles: ['staff' as const],
      inScope: random() >= 0.2, pausedUntil: random() < 0.1 ? new Date('2027-01-01T00:00:00Z') : null,
    }))).returning();
    expect(staff.some((p) => !p.inScope) && staff.some((p) => p.pausedUntil !== null)).toBe(true);
    // Nobody owes anything before a policy is published, whoever is in scope.
    expect(await figures()).toEqual({ policyAcks: 0, policyAcksExpected: 0 });

    // Seven policies, one with no version yet; histories up to four versions, 1.9 superseded by 1.10.
    const pols = await db.insert(policies).values(Array.from({ length: 7 }, (_, i) => ({ ref: `POL-${String(i + 1).padStart(4, '0')}`, title: `Policy ${i + 1}` }))).returning();
    const histories = [['1.0'], ['1.0', '1.1'], ['1.0', '2.0'], ['1.9', '1.10'], ['1.0', '1.1', '2.0', '2.1'], ['3.0', '2.5'], []];
    const publish = async (policyId: number, version: string) => {
      const [major, minor] = version.split('.').map(Number);
      const [v] = await db.insert(policyVersions).values({ policyId, version, major, minor, content: `Text ${version}`, contentSha256: `sha-${policyId}-${version}` }).returning();
      return v;
    };
    const versions: (typeof policyVersions.$inferSelect)[] = [];
    for (const [i, history] of histories.entries()) for (const version of history) versions.push(await publish(pols[i].id, version));
    const acknowledge = async (who: typeof staff, of: typeof versions) => {
      const values = who.flatMap((p) => of.map((v) => ({ personId: p.id, policyVersionId: v.id, contentSha256: v.contentSha256, channel: 'test' })));
      if (values.length) await db.insert(policyAcknowledgements).values(values).onConflictDoNothing();
    };
    // Each version acknowledged by some of everyone, in scope or not: old versions too, some people an old one only.
    for (const v of versions) await acknowledge(pick(staff, 0.6), [v]);
    const first = await expectedFigures(db);
    expect(first.policyAcks).toBeGreaterThan(0);
    expect(first.policyAcksExpected).toBe(6 * staff.filter((p) => p.inScope).length);
    expect(await figures()).toEqual(first);

    // People leave scope and others come back: their acknowledgements count, or stop counting, with them.
    const leaving = pick(staff.filter((p) => p.inScope), 0.3);
    const returning = pick(staff.filter((p) => !p.inScope), 0.5);
    await db.update(people).set({ inScope: false }).where(inArray(people.id, leaving.map((p) => p.id)));
    await db.update(people).set({ inScope: true }).where(inArray(people.id, returning.map((p) => p.id)));
    expect(leaving.length > 0 && returning.length > 0).toBe(true);
    expect(await figures()).toEqual(await expectedFigures(db));

    // New versions supersede the ones acknowledged; the policy without a version gets one; a minor version
    // below the one in force changes nothing in force.
    const newer = [await publish(pols[0].id, '1.1'), await publish(pols[3].id, '1.11'), await publish(pols[6].id, '1.0'), await publish(pols[2].id, '1.5')];
    const second = await expectedFigures(db);
    expect(second.policyAcksExpected).toBe(7 * (await db.select().from(people)).filter((p) => p.inScope).length);
    expect(await figures()).toEqual(second);

    // Some acknowledge the new versions, among them people outside scope; a newcomer joins in scope.
    await acknowledge(pick(staff, 0.5), newer);
    await db.insert(people).values({ name: 'Newcomer', email: 'new@figures.example', roles: ['staff'] });
    const third = await expectedFigures(db);
    expect(third.policyAcks).toBeGreaterThan(second.policyAcks);
    expect(await figures()).toEqual(third);

    // Everyone outside scope, then everyone in scope, acknowledges everything.
    await db.update(people).set({ inScope: false }).where(inArray(people.id, pick(staff, 0.5).map((p) => p.id)));
    await acknowledge((await db.select().from(people)).filter((p) => !p.inScope), [...versions, ...newer]);
    expect(await figures()).toEqual(await expectedFigures(db));
    const everyone = await db.select().from(people);
    await acknowledge(everyone.filter((p) => p.inScope), [...versions, ...newer]);
    const all = await expectedFigures(db);
    expect(all.policyAcks).toBe(all.policyAcksExpected);
    expect(await figures()).toEqual(all);
  });
});
