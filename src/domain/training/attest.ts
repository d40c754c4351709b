import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { people, trainingAttestations } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import { forbidden, invalid, notFound, conflict } from '../../core/errors.js';
import { isoDate } from '../../core/validate.js';
import { reply, text, fields, type Field } from '../../core/reply.js';
import { audienceLabel, courseAppliesTo, findCourse, MANAGEMENT_BODY_BASIS, obligationsOf, type Course } from './obligations.js';
import { addDays, addMonths, readersDay } from '../../core/time.js';

/** "completed on 2026-01-15", "on 2026-01-15" or just "2026-01-15". */
const completedOn = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().replace(/^completed\s+/i, '').replace(/^on\s+/i, '') : v),
  isoDate,
);

export const attestInput = z.object({
  course: z.string().trim().min(1, 'name the course code, e.g. SEC-AWARE').max(100).describe('The code of the course, e.g. SEC-AWARE'),
  completed: completedOn.optional().describe('The day you completed it; empty means today'),
  evidence: z.string().trim().min(1).max(500)
    .refine((v) => v !== 'true', 'give the certificate reference or link after --evidence').optional()
    .describe('The certificate reference or a link to it'),
});
export type AttestInput = z.infer<typeof attestInput>;

async function refuseIfAttested(ctx: CommandContext, course: Course, completed: string) {
  const [same] = await ctx.db.select().from(trainingAttestations).where(and(
    eq(trainingAttestations.personId, ctx.actor.id), eq(trainingAttestations.courseId, course.id), eq(trainingAttestations.completedOn, completed)));
  if (same) {
    throw conflict(`You already attested ${course.code} completed on ${completed} (valid until ${same.expiresOn}); nothing new was recorded.`);
  }
}

/** Records that the acting person completed a course; only people the course applies to may attest it. */
export async function attestTraining(ctx: CommandContext, input: AttestInput) {
  const course = await findCourse(ctx.db, input.course);
  if (!course) {
    throw notFound(`There is no training course "${input.course}".`, '"/isms training" lists the courses that apply to you, with their codes.');
  }
  const isBoardCourse = course.audienceRole === 'management_body';
  if (isBoardCourse && !hasRole(ctx.actor, 'management_body')) {
    throw forbidden(`Only members of the management body can attest ${course.code} (${course.title}): it is the management body's own cybersecurity training under ${MANAGEMENT_BODY_BASIS}, and each member attests it personally.`,
      '"/isms training" lists the courses that apply to you.');
  }
  const [person] = await ctx.db.select().from(people).where(eq(people.id, ctx.actor.id));
  if (!courseAppliesTo(course, person)) {
    throw forbidden(`${course.code} (${course.title}) is for ${audienceLabel(course)}, which does not include you, so you cannot attest it.`,
      '"/isms training" lists the courses that apply to you; ask your ISMS lead if one is missing.');
  }
  const today = readersDay(ctx.now, ctx.actor.timezone);
  const completed = input.completed ?? today;
  if (completed > today) {
    throw invalid(`The completion date ${completed} is in the future (today is ${today}).`, 'Attest once you have completed the course, with the day you completed it.').on('completed');
  }
  await refuseIfAttested(ctx, course, completed);
  // The same attestation made at the same moment meets the unique index on person, course and day:
  // it waits for the first one to commit and then finds it, so nothing of this one is kept.
  const [attestation] = await ctx.db.insert(trainingAttestations).values({
    personId: ctx.actor.id, courseId: course.id, completedOn: completed,
    expiresOn: addMonths(completed, course.validityMonths), evidenceRef: input.evidence,
    attestedAt: ctx.now, channel: ctx.channel,
  }).onConflictDoNothing({ target: [trainingAttestations.personId, trainingAttestations.courseId, trainingAttestations.completedOn] })
    .returning();
  if (!attestation) {
    await refuseIfAttested(ctx, course, completed);
    throw new Error(`Training attestations refused ${course.code} on ${completed} for person ${ctx.actor.id} but hold none.`);
  }
  await ctx.audit({ action: 'attest', entity: 'training_attestation', entityRef: `${course.code}#${attestation.id}`, after: attestation });
  return { course, attestation, isBoardCourse, today };
}

export const attestCommand = defineCommand({
  name: 'attest',
  aliases: ['training attest'],
  summary: 'Attest that you completed a training course',
  examples: (today) => ['attest SEC-AWARE', `attest MB-CYBER completed on ${addDays(today, -7)} --evidence https://lms.example/cert/123`],
  schema: attestInput,
  args: {
    course: {
      positional: true, value: 'course code',
      options: async (ctx) => (await obligationsOf(ctx.db, ctx.actor.id, readersDay(ctx.now, ctx.actor.timezone))).map((o) => ({ value: o.course.code, label: `${o.course.code} — ${o.course.title}` })),
    },
    // "completed on 2026-01-15" reads as a sentence: the rest of the line, "completed on" dropped.
    completed: { positional: 'rest', label: 'Completed on', value: 'completed on' },
    evidence: { label: 'Certificate reference or link', value: 'certificate ref or link' },
  },
  form: { title: 'Attest training', submitLabel: 'Attest' },
  async run(ctx, input) {
    const { course, attestation, isBoardCourse, today } = await attestTraining(ctx, input);
    const details: Field[] = [
      { label: 'Course', value: `${course.code} — ${course.title}` },
      { label: 'Completed on', value: attestation.completedOn },
      { label: 'Valid until', value: attestation.expiresOn },
      ...(attestation.evidenceRef ? [{ label: 'Evidence', value: attestation.evidenceRef }] : []),
      ...(isBoardCourse ? [{ label: 'Legal basis', value: MANAGEMENT_BODY_BASIS }] : course.legalBasis ? [{ label: 'Legal basis', value: course.legalBasis }] : []),
    ];
    const headline = isBoardCourse
      ? `Recorded your management-body training attestation for ${course.code} under ${MANAGEMENT_BODY_BASIS}: completed on ${attestation.completedOn}, valid until ${attestation.expiresOn}.`
      : `Recorded your completion of ${course.code} (${course.title}) on ${attestation.completedOn}, valid until ${attestation.expiresOn}.`;
    const blocks = [text(headline, 'success'), fields(details)];
    if (attestation.expiresOn < today) {
      blocks.push(text(`This completion already expired on ${attestation.expiresOn}; ${course.code} is due again.`, 'warning'));
    }
    return reply(...blocks);
  },
});
