import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { schedulerRuns } from '../../db/schema/index.js';
import type { NudgeSettings } from '../settings.js';
import { climbEvidenceLadders, createDueEvidenceRequests } from './evidence.js';
import { climbPoamLadders, remindOverdueMilestones } from './poam.js';
import { remindPolicyAcknowledgements } from './policies.js';
import { remindTrainingObligations } from './training.js';
import { remindSupplierReviews } from './suppliers.js';
import { reopenExpiredRiskAcceptances } from './risks.js';
import { weeklyDigest } from './digest.js';
import { witnessAuditTrail } from './witness.js';
import { pruneProcessedEvents } from './prune.js';
import { jobOf, type Job, type JobSummary } from './run.js';

export { createEvidenceRequests, remindEvidence, periodOf } from './evidence.js';
export { remindPoam } from './poam.js';
export { remindPolicies } from './policies.js';
export { remindTraining } from './training.js';
export { remindSuppliers } from './suppliers.js';
export { reopenExpiredRisks } from './risks.js';
export { weeklyDigest } from './digest.js';
export { witnessAuditTrail } from './witness.js';
export { dueText, reminderCycle, stepDue } from './ladder.js';
export { jobOf, JobRun, RUN_BATCH, SCHEDULER_ACTOR, type Job, type JobPart, type JobSummary } from './run.js';

/**
 * The daily run: jobs (1) to (6), each committing in batches, then one message per person, so whatever
 * a person is nudged about that day arrives as one message with a button per item.
 */
export const dailyNudges: Job = jobOf(
  createDueEvidenceRequests,
  climbEvidenceLadders,
  climbPoamLadders,
  remindOverdueMilestones,
  remindPolicyAcknowledgements,
  remindTrainingObligations,
  remindSupplierReviews,
  reopenExpiredRiskAcceptances,
);

export interface JobSpec {
  name: string;
  /** The cron expression from the settings (in the settings' time zone). */
  cron(settings: NudgeSettings): string;
  run: Job;
  /**
   * How recent a missed fire must be for a starting bot to run it late: within the current hour, day or
   * (ISO, Monday first) week on the organisation's calendar. Older ones are left to the next fire.
   */
  catchUpWithin: 'hour' | 'day' | 'week';
}

export const JOBS: JobSpec[] = [
  { name: 'daily-nudges', cron: (s) => s.nudgeCron, run: dailyNudges, catchUpWithin: 'day' },
  { name: 'weekly-digest', cron: (s) => s.digestCron, run: weeklyDigest, catchUpWithin: 'week' },
  { name: 'audit-witness', cron: (s) => s.witnessCron, run: witnessAuditTrail, catchUpWithin: 'day' },
  { name: 'prune-processed-events', cron: () => '17 * * * *', run: pruneProcessedEvents, catchUpWithin: 'hour' },
];

/** Cron fires are minute-aligned; replicas whose timers fire a little apart agree on the minute. */
export function fireTime(at: Date): Date {
  return new Date(Math.round(at.getTime() / 60_000) * 60_000);
}

/**
 * A fire this replica ran, or one it did not: finished already, or claimed by a run still within its
 * lease (heldUntil: when that claim counts as abandoned, should its process have died).
 */
export type ScheduledRun = { ran: true; summary: JobSummary } | { ran: false; heldUntil?: Date };

/** A claimed fire still unfinished after this long is taken as abandoned (its process died) and may run again. */
export const ABANDONED_CLAIM_MS = 60 * 60_000;

/**
 * Runs one scheduled fire once across every replica: the (job, fire_at) row is claimed and committed
 * first, so a second replica finds it and skips, while the job itself commits in batches (never one
 * transaction, nor the audit lock, across the run). A job that fails gives its claim back, and one whose
 * process died is taken over after ABANDONED_CLAIM_MS: the re-run does what is left, each nudge once.
 */
export async function runScheduledJob(db: Db, spec: Pick<JobSpec, 'name' | 'run'>, fireAt: Date, settings: NudgeSettings): Promise<ScheduledRun> {
  const claimedAt = new Date();
  const claimed = await db.insert(schedulerRuns).values({ job: spec.name, fireAt, ranAt: claimedAt })
    .onConflictDoUpdate({
      target: [schedulerRuns.job, schedulerRuns.fireAt], set: { ranAt: claimedAt },
      setWhere: sql`${schedulerRuns.summary} is null and ${schedulerRuns.ranAt} < ${new Date(claimedAt.getTime() - ABANDONED_CLAIM_MS)}`,
    }).returning({ job: schedulerRuns.job });
  if (claimed.length === 0) {
    const [held] = await db.select({ ranAt: schedulerRuns.ranAt }).from(schedulerRuns)
      .where(and(eq(schedulerRuns.job, spec.name), eq(schedulerRuns.fireAt, fireAt), isNull(schedulerRuns.summary)));
    return held ? { ran: false, heldUntil: new Date(held.ranAt.getTime() + ABANDONED_CLAIM_MS) } : { ran: false };
  }
  const thisRun = and(eq(schedulerRuns.job, spec.name), eq(schedulerRuns.fireAt, fireAt), eq(schedulerRuns.ranAt, claimedAt));
  let summary: JobSummary;
  try {
    summary = await spec.run(db, fireAt, settings);
  } catch (e) {
    await db.delete(schedulerRuns).where(and(thisRun, isNull(schedulerRuns.summary))).catch(() => undefined);
    throw e;
  }
  await db.update(schedulerRuns).set({ summary }).where(thisRun);
  return { ran: true, summary };
}
