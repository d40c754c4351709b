import { eq, inArray } from 'drizzle-orm';
import { risks } from '../../db/schema/index.js';
import { isoDay } from '../../core/time.js';
import { latestAcceptances } from '../../domain/risks/register.js';
import { jobOf, type JobPart } from './run.js';

/**
 * Reopens every accepted risk whose acceptance ran out (its last day is before today): the risk is
 * open again, with its audit event, and its owner (or, without one, the ISMS leads) is told once.
 */
export const reopenExpiredRiskAcceptances: JobPart = async (run) => {
  // Few rows: one transaction, the accepted risks locked while they are checked and reopened.
  await run.step(async (tx) => {
    const accepted = await tx.select().from(risks).where(eq(risks.status, 'accepted')).for('update');
    const acceptances = await latestAcceptances(tx, accepted.map((r) => r.id));
    const expired = accepted.filter((r) => {
      const expiresOn = acceptances.get(r.id)?.expiresOn;
      return expiresOn && isoDay(expiresOn) < run.today;
    });
    if (expired.length === 0) return;
    const reopened = await tx.update(risks).set({ status: 'open' }).where(inArray(risks.id, expired.map((r) => r.id))).returning();
    for (const after of reopened) {
      const before = expired.find((r) => r.id === after.id)!;
      const acceptance = acceptances.get(after.id)!;
      const lastDay = isoDay(acceptance.expiresOn!);
      await run.audit({ action: 'reopen', entity: 'risk', entityRef: after.ref, before, after });
      run.count('risk acceptances expired');
      const recipients = after.ownerId ? [after.ownerId] : (await run.leads()).map((p) => p.id);
      for (const recipientId of recipients) {
        run.batch.add({
          recipientId, itemRef: after.ref, kind: 'risk',
          key: `risk-acceptance-expired:${after.ref}:${acceptance.id}:${recipientId}`,
          title: `${after.ref} ${after.title}: its acceptance ran out on ${lastDay}, so the risk is open again`,
          detail: `residual score ${after.residualScore}; treat it further or ask for a new acceptance`,
          button: { label: 'Show the risks', command: 'risks' },
        });
      }
    }
  });
};

export const reopenExpiredRisks = jobOf(reopenExpiredRiskAcceptances);
