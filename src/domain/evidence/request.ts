import { z } from 'zod';
import { and, eq, like } from 'drizzle-orm';
import { evidenceRequests } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { nextRef } from '../../core/refs.js';
import { isoDate } from '../../core/validate.js';
import { findPersonById } from '../../core/actor.js';
import { conflict, invalid } from '../../core/errors.js';
import { reply, text, fields, actions } from '../../core/reply.js';
import { findControl } from './lookup.js';
import { addDays, readersDay } from '../../core/time.js';
import { periodInWords } from './words.js';

const DEFAULT_DUE_DAYS = 14;

export const requestEvidenceInput = z.object({
  control: z.string({ required_error: 'name the control, e.g. CTL-AC-01' }).trim().min(1, 'name the control, e.g. CTL-AC-01').max(100)
    .describe("The control whose owner is asked, e.g. CTL-AC-01"),
  due: isoDate.optional().describe(`When the evidence is due; empty means ${DEFAULT_DUE_DAYS} days from today`),
});
export type RequestEvidenceInput = z.infer<typeof requestEvidenceInput>;

/** An ad-hoc evidence request to the control's owner, who is told at once with a "Submit evidence" button. */
export async function requestEvidence(ctx: CommandContext, input: RequestEvidenceInput) {
  const control = await findControl(ctx.db, input.control, true);
  if (control.ownerId === null) {
    throw invalid(`${control.code} has no owner, so there is nobody to ask for evidence.`,
      'Give the control an owner in the control register, then ask again.');
  }
  const today = readersDay(ctx.now, ctx.actor.timezone);
  const dueOn = input.due ?? addDays(today, DEFAULT_DUE_DAYS);
  if (dueOn < today) {
    throw invalid(`The due date ${dueOn} is in the past.`, `Give today (${today}) or a later date, or leave it out for ${DEFAULT_DUE_DAYS} days from now.`).on('due');
  }
  const [alreadyOpen] = await ctx.db.select().from(evidenceRequests)
    .where(and(eq(evidenceRequests.controlId, control.id), eq(evidenceRequests.status, 'open')));
  if (alreadyOpen) {
    throw conflict(`${control.code} already has an open evidence request, ${alreadyOpen.ref}, due ${alreadyOpen.dueOn}. Nothing was recorded.`,
      'Its owner sees it in "/isms evidence"; ask again once it has been answered.');
  }
  // One request per control and cycle: a second ad-hoc request on the same day gets "-2", "-3", ...
  const base = `adhoc-${today}`;
  const taken = new Set((await ctx.db.select({ cycle: evidenceRequests.cycle }).from(evidenceRequests)
    .where(and(eq(evidenceRequests.controlId, control.id), like(evidenceRequests.cycle, `${base}%`)))).map((r) => r.cycle));
  let cycle = base;
  for (let n = 2; taken.has(cycle); n++) cycle = `${base}-${n}`;

  const owner = (await findPersonById(ctx.db, control.ownerId))!;
  const ref = await nextRef(ctx.db, 'EVR');
  const [request] = await ctx.db.insert(evidenceRequests).values({
    ref, controlId: control.id, ownerId: owner.id, dueOn, cycle, requestedBy: ctx.actor.id, createdAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'request', entity: 'evidence_request', entityRef: ref, after: request });
  await ctx.notify({
    recipientId: owner.id,
    kind: 'evidence_request',
    idempotencyKey: `evidence_request:${ref}:${owner.id}:requested`,
    reply: {
      ...reply(
        text(`${ctx.actor.name} asks you for evidence that ${control.code} ${control.title} works, by ${dueOn} (${ref}).`),
        text('Reply here with a file or a link, or use the button.'),
        actions({ label: 'Submit evidence', command: `evidence submit ${ref}`, style: 'primary' }),
      ),
      about: ref,
    },
  });
  return { request, control, owner };
}

export const requestEvidenceCommand = defineCommand({
  name: 'request',
  aliases: ['evidence request'],
  summary: "Ask a control's owner for evidence now",
  examples: (today) => [`request CTL-AC-01 ${addDays(today, 30)}`, `request CTL-AC-02 --due ${addDays(today, 30)}`, 'request CTL-OPS-02'],
  roles: ['isms_lead'],
  schema: requestEvidenceInput,
  args: {
    control: { positional: true, value: 'control id', placeholder: 'e.g. CTL-AC-01' },
    due: { positional: true, label: 'Due date' },
  },
  form: { title: 'Ask for evidence', submitLabel: 'Ask the owner' },
  async run(ctx, input) {
    const { request, control, owner } = await requestEvidence(ctx, input);
    return reply(
      text(`Asked ${owner.name} for evidence for ${control.code} ${control.title}: ${request.ref}, due ${request.dueOn}.`, 'success'),
      fields([
        { label: 'Request', value: request.ref },
        { label: 'Control', value: `${control.code} ${control.title}` },
        { label: 'Owner', value: `${owner.name} <${owner.email}>` },
        { label: 'Due', value: request.dueOn },
        { label: 'Period', value: periodInWords(request.cycle) },
      ]),
    );
  },
});
