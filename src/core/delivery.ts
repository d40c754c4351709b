import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { outbox, people } from '../db/schema/index.js';
import type { ChatPort } from './port.js';
import type { Reply } from './reply.js';

export interface DeliveryResult { sent: number; waiting: number }

/**
 * Sends queued outbox rows that are due, through the first port that can reach each recipient.
 * Rows are claimed with FOR UPDATE SKIP LOCKED so several workers never send the same row.
 * A row nobody can reach yet stays queued (e.g. a terminal user who is not acting right now).
 */
export async function deliverDue(db: Db, ports: ChatPort[], now = new Date(), limit = 50): Promise<DeliveryResult> {
  let sent = 0;
  let waiting = 0;
  const due = await db.transaction(async (tx) => {
    const claimed = await tx.select({ id: outbox.id }).from(outbox)
      .where(and(eq(outbox.status, 'queued'), lte(outbox.notBefore, now)))
      .orderBy(outbox.id).limit(limit).for('update', { skipLocked: true });
    return claimed.map((r) => r.id);
  });
  if (due.length === 0) return { sent, waiting };
  const rows = await db.select().from(outbox).innerJoin(people, eq(outbox.recipientId, people.id)).where(inArray(outbox.id, due));
  for (const { outbox: row, people: person } of rows) {
    let port: ChatPort | undefined;
    for (const p of ports) if (await p.canReach(person)) { port = p; break; }
    if (!port) { waiting++; continue; }
    // Claim the row for this worker before sending; another worker's claim makes this a no-op.
    const [claim] = await db.update(outbox).set({ status: 'sending', attempts: sql`${outbox.attempts} + 1` })
      .where(and(eq(outbox.id, row.id), eq(outbox.status, 'queued'))).returning({ id: outbox.id });
    if (!claim) continue;
    try {
      await port.send(person, row.reply as Reply);
      await db.update(outbox).set({ status: 'sent', sentAt: new Date() }).where(eq(outbox.id, row.id));
      sent++;
    } catch (e) {
      await db.update(outbox).set({ status: 'queued', lastError: (e as Error).message }).where(eq(outbox.id, row.id));
    }
  }
  return { sent, waiting };
}
