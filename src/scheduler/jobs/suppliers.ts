import { isNotNull } from 'drizzle-orm';
import { suppliers } from '../../db/schema/index.js';
import { isLead, toActor } from '../../core/actor.js';
import { daysBetween } from '../../core/time.js';
import { dueText, reminderCycle } from './ladder.js';
import { jobOf, type JobPart } from './run.js';

/**
 * (6) Supplier reviews coming due (at each of `supplierReminderDays` before next_review_on) and,
 * once late, every `repeatEveryDays`: to the supplier's owner, or the ISMS lead when it has none.
 */
export const remindSupplierReviews: JobPart = async (run) => {
  const due = await run.db.select().from(suppliers).where(isNotNull(suppliers.nextReviewOn)).orderBy(suppliers.id);
  for (const supplier of due) {
    const reviewOn = supplier.nextReviewOn!;
    const cycle = reminderCycle(daysBetween(run.today, reviewOn), run.settings.supplierReminderDays, run.settings.repeatEveryDays);
    if (!cycle) continue;
    const owner = supplier.ownerId !== null ? await run.person(supplier.ownerId) : undefined;
    const recipients = owner ? [owner] : await run.leads();
    for (const person of recipients) {
      if (run.isPaused(person)) continue;
      run.count('supplier reminders');
      run.hold({
        recipientId: person.id, itemRef: supplier.ref, kind: 'supplier_review',
        key: `supplier_review:${supplier.ref}:${person.id}:${reviewOn}:${cycle}`,
        title: `${supplier.ref} ${supplier.name}: supplier review`,
        detail: dueText(reviewOn, run.today),
        button: isLead(toActor(person)) ? { label: 'Supplier register', command: 'register suppliers' } : undefined,
      });
    }
  }
};

export const remindSuppliers = jobOf(remindSupplierReviews);
