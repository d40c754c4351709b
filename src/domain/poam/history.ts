import { asc, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people, poamClosures, poamExtensions } from '../../db/schema/index.js';
import { readersDay } from '../../core/time.js';

interface Event { at: Date; line: string }

/**
 * What happened to each item's due date and completion, oldest first, one line each:
 * "extended 2026-10-01 → 2026-11-15 (PEX-0002, approved by Lena Lead on 2026-09-20)",
 * "marked done on 2026-11-10 by Olga Owner (PCL-0001)", "reopened on 2026-11-12 by Lena Lead: …".
 */
export async function poamHistories(db: Db, itemIds: number[], timezone?: string | null): Promise<Map<number, string[]>> {
  // Days on the reader's calendar in chat; in UTC for exports, which give no zone.
  const day = (at: Date) => readersDay(at, timezone);
  const histories = new Map<number, string[]>();
  if (itemIds.length === 0) return histories;
  const extensions = await db.select().from(poamExtensions).where(inArray(poamExtensions.itemId, itemIds)).orderBy(asc(poamExtensions.id));
  const closures = await db.select().from(poamClosures).where(inArray(poamClosures.itemId, itemIds)).orderBy(asc(poamClosures.id));
  const ids = [...extensions.flatMap((e) => [e.requestedBy, e.decidedBy]), ...closures.flatMap((c) => [c.submittedBy, c.decidedBy])]
    .filter((id): id is number => id !== null);
  const names = new Map(ids.length
    ? (await db.select({ id: people.id, name: people.name }).from(people).where(inArray(people.id, [...new Set(ids)]))).map((p) => [p.id, p.name])
    : []);
  const name = (id: number | null) => (id === null ? 'someone' : names.get(id) ?? `person #${id}`);

  const events = new Map<number, Event[]>();
  const add = (itemId: number, at: Date, line: string) => events.set(itemId, [...(events.get(itemId) ?? []), { at, line }]);
  for (const e of extensions) {
    const decided = e.decidedAt ? ` by ${name(e.decidedBy)} on ${day(e.decidedAt)}` : '';
    if (e.status === 'approved') add(e.itemId, e.decidedAt ?? e.requestedAt, `extended ${e.previousDueOn} → ${e.requestedDueOn} (${e.ref}, approved${decided})`);
    else if (e.status === 'rejected') add(e.itemId, e.decidedAt ?? e.requestedAt, `extension ${e.previousDueOn} → ${e.requestedDueOn} rejected (${e.ref}${decided})`);
    else add(e.itemId, e.requestedAt, `extension ${e.previousDueOn} → ${e.requestedDueOn} requested by ${name(e.requestedBy)} on ${day(e.requestedAt)} (${e.ref}, awaiting a decision)`);
  }
  for (const c of closures) {
    add(c.itemId, c.submittedAt, `marked done on ${day(c.submittedAt)} by ${name(c.submittedBy)} (${c.ref})`);
    if (c.decidedAt && c.status === 'verified') {
      add(c.itemId, c.decidedAt, `verified on ${day(c.decidedAt)} by ${name(c.decidedBy)} (${c.ref}${c.decisionNote ? `: ${c.decisionNote}` : ''})`);
    } else if (c.decidedAt && c.status === 'reopened') {
      add(c.itemId, c.decidedAt, `reopened on ${day(c.decidedAt)} by ${name(c.decidedBy)} (${c.ref}): ${c.decisionNote ?? 'no reason recorded'}`);
    }
  }
  for (const [itemId, list] of events) {
    histories.set(itemId, list.sort((a, b) => a.at.getTime() - b.at.getTime()).map((e) => e.line));
  }
  return histories;
}
