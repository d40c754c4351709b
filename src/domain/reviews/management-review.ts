import { z } from 'zod';
import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import { managementReviews, poamItems, reviewDecisions, reviewPacks } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { MAX_CHOICES } from '../../core/args.js';
import { personNamed, personRef, findPersonById, hasRole, peopleWithRole, type Person } from '../../core/actor.js';
import { refuseOwnWork } from '../../core/duties.js';
import { conflict, forbidden, invalid, notFound } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { isoDate, registerRef } from '../../core/validate.js';
import { actions, fields, formBlock, reply, text, type Field } from '../../core/reply.js';
import { assertFutureDue, roleList } from './shared.js';
import { addDays, addMonths, isoDay, readersDay } from '../../core/time.js';

export type ManagementReview = typeof managementReviews.$inferSelect;
export type Attendee = ManagementReview['attendees'][number];
type Decision = typeof reviewDecisions.$inferSelect;

const REVIEW_REF = /^MR-?\d+$/i;
const LIST = 'a comma-separated list of emails or names';

export const reviewRecordInput = z.object({
  // A date records a new review; a reference edits an open one.
  date: z.string({ required_error: 'give the day the review was held (YYYY-MM-DD), or the MR reference of an open review to edit' }).trim()
    .superRefine((v, ctx) => {
      if (REVIEW_REF.test(v)) return;
      const parsed = isoDate.safeParse(v);
      if (!parsed.success) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${parsed.error.issues[0].message}, or the MR reference of an open review to edit` });
    })
    .describe('The day the review was held (YYYY-MM-DD), or the MR reference of an open review to edit'),
  inputs: z.string().trim().min(1, 'list what the review looked at').max(8000, 'must be at most 8000 characters').optional()
    .describe('What the review looked at (ISO 27001 9.3.2); the review pack when left out'),
  attendees: z.string().trim().min(1, `name who attended: ${LIST}`).max(4000, 'must be at most 4000 characters').optional()
    .describe('Who actually attended: emails or names from the register, comma-separated'),
  chair: z.string().trim().min(1).max(320).optional().describe('The management-body member who chaired it (email or name); they close it'),
  pack: registerRef('RP').optional().describe('The review pack it considered, e.g. RP-0001; the latest pack no review has taken when left out'),
});
export type ReviewRecordInput = z.infer<typeof reviewRecordInput>;

async function attendeesFrom(ctx: CommandContext, list: string): Promise<Person[]> {
  const people: Person[] = [];
  for (const query of list.split(/[,;]/).map((q) => q.trim()).filter(Boolean)) {
    const person = await personNamed(ctx.db, 'attendees', query);
    if (!people.some((p) => p.id === person.id)) people.push(person);
  }
  if (people.length === 0) throw invalid(`attendees: name who attended: ${await listOf(ctx)}.`).on('attendees');
  return people;
}

/** The management body, first-registered first: hints name people of this register, never made-up ones. */
const boardOf = async (ctx: CommandContext): Promise<Person[]> =>
  (await peopleWithRole(ctx.db, 'management_body')).sort((a, b) => a.id - b.id);

/** LIST with an example of who could have attended: a member of the management body and the asker. */
async function listOf(ctx: CommandContext): Promise<string> {
  const [member] = await boardOf(ctx);
  const example = [...new Set([member?.email, ctx.actor.name].filter(Boolean))].join(', ');
  return `${LIST}, e.g. --attendees "${example}"`;
}

async function chairFrom(ctx: CommandContext, query: string): Promise<Person> {
  const chair = await personNamed(ctx.db, 'chair', query);
  if (!(chair.roles ?? []).includes('management_body')) {
    throw invalid(`chair: ${chair.name} is not a member of the management body (${roleList(chair.roles ?? [])}); top management chairs its review (ISO 27001 9.3).`,
      `Name a member: ${(await peopleWithRole(ctx.db, 'management_body')).map((p) => p.email).join(', ') || 'the register has none'}.`).on('chair');
  }
  return chair;
}

const asAttendee = (p: Person): Attendee => ({ personId: p.id, name: p.name, roles: [...(p.roles ?? [])] });

/** The attendees with the chair among them: the chair attended, whether or not the list named them. */
function withChair(attendees: Attendee[], chair: Person | undefined): Attendee[] {
  return chair && !attendees.some((a) => a.personId === chair.id) ? [...attendees, asAttendee(chair)] : attendees;
}

async function packFor(ctx: CommandContext, ref: string | undefined) {
  if (ref) {
    const [pack] = await ctx.db.select().from(reviewPacks).where(eq(reviewPacks.ref, ref));
    if (!pack) throw notFound(`pack: ${ref} does not exist.`, '"/isms review prepare" prepares one.').on('pack');
    const [taken] = await ctx.db.select({ ref: managementReviews.ref }).from(managementReviews).where(eq(managementReviews.packId, pack.id));
    if (taken) throw conflict(`pack: ${ref} is already the pack of ${taken.ref}. Nothing was recorded.`, `Edit ${taken.ref} instead, or prepare a new pack.`).on('pack');
    return pack;
  }
  const [untaken] = await ctx.db.select({ pack: reviewPacks }).from(reviewPacks).leftJoin(managementReviews, eq(managementReviews.packId, reviewPacks.id))
    .where(isNull(managementReviews.id)).orderBy(desc(reviewPacks.id)).limit(1);
  return untaken?.pack;
}

/**
 * Records a management review held on a date, with the people who actually attended (as they are
 * today, so later changes to people do not rewrite the record) and its chair from the management body.
 */
export async function recordReview(ctx: CommandContext, input: ReviewRecordInput & { date: string }) {
  const today = readersDay(ctx.now, ctx.actor.timezone);
  if (input.date > today) {
    throw invalid(`date: ${input.date} is in the future (today is ${today}); record a management review once it has been held.`).on('date');
  }
  const board = await boardOf(ctx);
  if (board.length === 0) {
    throw invalid('No one in the register has the management body role, and a management review is held by top management (ISO 27001 9.3).',
      'Give the management body its role in the register (import), then record the review.');
  }
  if (!input.attendees) throw invalid(`attendees: name who actually attended: ${await listOf(ctx)}.`).on('attendees');
  if (!input.chair) throw invalid(`chair: name the management-body member who chaired the review, e.g. --chair ${board[0].email}.`).on('chair');
  const present = await attendeesFrom(ctx, input.attendees);
  const chair = await chairFrom(ctx, input.chair);
  const pack = await packFor(ctx, input.pack);
  const inputs = input.inputs ?? (pack ? `Review pack ${pack.ref} (ISO 27001 9.3.2 inputs), prepared ${isoDay(pack.preparedAt)}` : undefined);
  if (!inputs) {
    throw invalid('inputs: list what the review looked at, or prepare the pack of inputs first with "/isms review prepare".').on('inputs');
  }

  const ref = await nextRef(ctx.db, 'MR');
  const [review] = await ctx.db.insert(managementReviews).values({
    ref, heldOn: input.date, attendees: withChair(present.map(asAttendee), chair), inputs, chairId: chair.id, packId: pack?.id,
    status: 'open', createdAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'record', entity: 'management_review', entityRef: ref, after: review });
  return { review, chair: chair.name, pack: pack?.ref };
}

/** A closed review's record is final: recording on it is refused, saying who closed it. */
async function refuseClosed(ctx: CommandContext, review: ManagementReview, doing: string): Promise<void> {
  if (review.status !== 'closed') return;
  const by = review.closedBy ? (await findPersonById(ctx.db, review.closedBy))?.name : undefined;
  throw conflict(`${review.ref} was closed${by ? ` by ${by}` : ''}${review.closedAt ? ` on ${readersDay(review.closedAt, ctx.actor.timezone)}` : ''}, so its record is final: ${doing} is refused. Nothing was recorded.`,
    'Record what follows at the next management review.');
}

/** Changes the attendees, chair, inputs or pack of a review that is still open. */
export async function editReview(ctx: CommandContext, ref: string, input: ReviewRecordInput) {
  const review = await loadReview(ctx, ref);
  await refuseClosed(ctx, review, 'editing it');
  if (!input.attendees && !input.chair && !input.inputs && !input.pack) {
    throw invalid(`Say what to change on ${review.ref}: --attendees, --chair, --pack or the inputs.`);
  }
  const chair = input.chair ? await chairFrom(ctx, input.chair) : review.chairId ? await findPersonById(ctx.db, review.chairId) : undefined;
  const attendees = input.attendees ? (await attendeesFrom(ctx, input.attendees)).map(asAttendee) : review.attendees;
  const pack = input.pack ? await packFor(ctx, input.pack) : undefined;
  const [edited] = await ctx.db.update(managementReviews).set({
    attendees: withChair(attendees, chair), chairId: chair?.id ?? null, inputs: input.inputs ?? review.inputs, packId: pack?.id ?? review.packId,
  }).where(eq(managementReviews.id, review.id)).returning();
  await ctx.audit({ action: 'edit', entity: 'management_review', entityRef: review.ref, before: review, after: edited });
  return { review: edited, chair: chair?.name };
}

export const attendeeLine = (a: Attendee) => `${a.name} (${roleList(a.roles)})`;

async function reviewFields(ctx: CommandContext, review: ManagementReview, chair: string | undefined): Promise<Field[]> {
  const pack = review.packId ? (await ctx.db.select({ ref: reviewPacks.ref }).from(reviewPacks).where(eq(reviewPacks.id, review.packId)))[0] : undefined;
  return [
    { label: 'Reference', value: review.ref },
    { label: 'Held on', value: review.heldOn },
    { label: 'Chair', value: chair ?? 'not recorded' },
    { label: 'Attendees', value: review.attendees.map(attendeeLine).join('; ') },
    { label: 'Inputs', value: review.inputs },
    ...(pack ? [{ label: 'Review pack', value: pack.ref }] : []),
  ];
}

export const reviewRecordCommand = defineCommand({
  name: 'review record',
  summary: 'Record a management review with who attended and its chair; with an MR reference, edit one that is still open',
  examples: (today) => [
    `review record ${addDays(today, -7)} --attendees katrin.vogel@northwind.example,iris@northwind.example --chair katrin.vogel@northwind.example`,
    `review record ${addDays(today, -7)} "internal audit results, risk register status, ISMS objectives" --attendees "Katrin Vogel" --chair katrin.vogel@northwind.example`,
    'review record MR-0001 --attendees katrin.vogel@northwind.example,marco.bianchi@northwind.example,iris@northwind.example',
  ],
  roles: ['isms_lead'],
  schema: reviewRecordInput,
  args: {
    date: { positional: true, label: 'Held on (or MR-ref to edit)', value: 'held on YYYY-MM-DD or MR-ref' },
    inputs: { positional: 'rest', label: 'Inputs reviewed (the review pack if left empty)' },
    attendees: { label: 'Attendees (emails or names, comma-separated)', value: 'emails or names' },
    chair: { label: 'Chair (a management-body member)', value: 'email or name' },
    pack: { label: 'Review pack', value: 'RP-ref' },
  },
  form: { title: 'Record a management review', submitLabel: 'Record review' },
  async run(ctx, input) {
    const editing = REVIEW_REF.test(input.date);
    const { review, chair, said } = editing
      ? { ...await editReview(ctx, registerRef('MR').parse(input.date), input), said: (r: ManagementReview) => `Updated ${r.ref}; it stays open until its chair closes it.` }
      : { ...await recordReview(ctx, input), said: (r: ManagementReview) => `Recorded the management review held on ${r.heldOn} as ${r.ref}.` };
    return {
      ...reply(
        text(said(review), 'success'),
        fields(await reviewFields(ctx, review, chair)),
        text(`Add its decisions with "${commandLine(ctx.channel, `review decide ${review.ref} <owner email> <due YYYY-MM-DD> <decision>`)}"; `
          + `the chair closes it with "${commandLine(ctx.channel, `review close ${review.ref}`)}".`),
        actions({ label: 'Add a decision', command: `review decide ${review.ref}` }),
      ),
      about: review.ref,
    };
  },
});

export const reviewDecideInput = z.object({
  review: registerRef('MR').describe('The management review, e.g. MR-0001'),
  // Optional so that "Add a decision" (the reference alone) can ask for the rest in a form.
  owner: personRef.optional().describe('Who owns the action (email, name or @handle); they are told'),
  due: isoDate.optional().describe('When the action is due, a future date'),
  decision: z.string().trim().min(1).max(4000, 'must be at most 4000 characters').optional().describe('What was decided'),
});

async function loadReview(ctx: CommandContext, ref: string): Promise<ManagementReview> {
  const [review] = await ctx.db.select().from(managementReviews).where(eq(managementReviews.ref, ref)).for('update');
  if (!review) throw notFound(`${ref} does not exist.`, '"/isms reviews" lists the management reviews with their references.');
  return review;
}

/**
 * Adds a decision (numbered within its review): an action with an owner and due date, tracked as a
 * POA&M item; the owner is told.
 */
export async function decide(ctx: CommandContext, input: { review: string; owner: string; due: string; decision: string }) {
  const review = await loadReview(ctx, input.review);
  await refuseClosed(ctx, review, 'adding a decision');
  assertFutureDue('due', input.due, readersDay(ctx.now, ctx.actor.timezone));
  const owner = await personNamed(ctx.db, 'owner', input.owner);
  const earlier = await ctx.db.select({ id: reviewDecisions.id }).from(reviewDecisions).where(eq(reviewDecisions.reviewId, review.id));
  const number = earlier.length + 1;
  const entityRef = `${review.ref}/${number}`;

  const itemRef = await nextRef(ctx.db, 'POAM');
  const [item] = await ctx.db.insert(poamItems).values({
    ref: itemRef, weakness: `Management review ${entityRef}: ${input.decision}`, source: 'management_review', sourceRef: entityRef,
    ownerId: owner.id, dueOn: input.due, status: 'open', createdAt: ctx.now,
  }).returning();
  const [decision] = await ctx.db.insert(reviewDecisions).values({
    reviewId: review.id, decision: input.decision, ownerId: owner.id, dueOn: input.due, status: 'open', poamItemId: item.id,
  }).returning();
  await ctx.audit({ action: 'decide', entity: 'review_decision', entityRef, after: decision });
  await ctx.audit({ action: 'open', entity: 'poam_item', entityRef: itemRef, after: item });
  if (owner.id !== ctx.actor.id) {
    await ctx.notify({
      recipientId: owner.id,
      kind: 'review_decision',
      idempotencyKey: `review-decision:${entityRef}:owner:${owner.id}`,
      reply: {
        ...reply(
          text(`The management review ${review.ref} of ${review.heldOn} decided something you own, due ${input.due}:`),
          fields([
            { label: `Decision ${number}`, value: input.decision },
            { label: 'POA&M item', value: itemRef },
            { label: 'Recorded by', value: ctx.actor.name },
          ]),
          actions({ label: 'Mark completed', command: `poam done ${itemRef}`, style: 'primary' }, { label: 'Request extension', command: `poam extend ${itemRef}` }),
        ),
        about: itemRef,
      },
    });
  }
  return { review, decision, number, owner, item };
}

const reviewOptions = async (ctx: CommandContext) => (await ctx.db.select().from(managementReviews)
  .where(eq(managementReviews.status, 'open')).orderBy(desc(managementReviews.heldOn), asc(managementReviews.id)).limit(MAX_CHOICES + 1))
  .map((r) => ({ value: r.ref, label: `${r.ref} — held ${r.heldOn}` }));

export const reviewDecideCommand = defineCommand({
  name: 'review decide',
  summary: 'Add a decision to an open management review: an action with an owner and due date, tracked as a POA&M item (the owner is told)',
  examples: (today) => [`review decide MR-0001 lena.fischer@northwind.example ${addMonths(today, 3)} "Fund MFA for all remote access"`],
  roles: ['isms_lead', 'management_body'],
  schema: reviewDecideInput,
  args: {
    review: { positional: true, label: 'Management review', value: 'MR-ref', options: reviewOptions },
    owner: { positional: true, required: true, label: 'Owner (email)', value: 'owner email' },
    due: { positional: true, required: true },
    decision: { positional: 'rest', required: true },
  },
  form: { title: 'Add a management review decision', submitLabel: 'Add decision' },
  async run(ctx, input) {
    if (!input.owner && !input.due && !input.decision) {
      const review = await loadReview(ctx, input.review);
      await refuseClosed(ctx, review, 'adding a decision');
      return reply(formBlock(await ctx.form({ title: `Add a decision to ${review.ref}`, known: { review: review.ref } })));
    }
    if (!input.owner) throw invalid('owner: an action decision needs the email of who owns it, after the review reference.').on('owner');
    if (!input.due) throw invalid('due: an action decision needs its due date (YYYY-MM-DD), after the owner.').on('due');
    if (!input.decision) throw invalid('decision: say what was decided after the due date.').on('decision');
    const { review, decision, number, owner, item } = await decide(ctx, { review: input.review, owner: input.owner, due: input.due, decision: input.decision });
    const told = owner.id === ctx.actor.id ? '' : ` ${owner.name} has been told.`;
    return {
      ...reply(
        text(`Added decision ${number} to ${review.ref}, tracked as ${item.ref}: owned by ${owner.name}, due ${decision.dueOn}.${told}`, 'success'),
        fields([{ label: 'Decision', value: decision.decision }]),
      ),
      about: review.ref,
    };
  },
});

const decisionRef = z.string().trim().transform((v, ctx) => {
  const m = /^MR-?(\d+)\/(\d+)$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a decision reference like MR-0001/1 (the review and the decision's number), not "${v}"` });
    return z.NEVER;
  }
  return { review: `MR-${m[1].padStart(4, '0')}`, number: Number(m[2]) };
});

async function loadDecision(ctx: CommandContext, ref: { review: string; number: number }): Promise<{ review: ManagementReview; decision: Decision }> {
  const review = await loadReview(ctx, ref.review);
  const all = await ctx.db.select().from(reviewDecisions).where(eq(reviewDecisions.reviewId, review.id)).orderBy(asc(reviewDecisions.id)).for('update');
  const decision = all[ref.number - 1];
  if (!decision) {
    throw notFound(`${ref.review}/${ref.number} does not exist: ${ref.review} has ${all.length} decision${all.length === 1 ? '' : 's'}.`,
      '"/isms reviews" lists each review\'s decisions in order.');
  }
  return { review, decision };
}

/**
 * Closes a decision's action and completes its POA&M item. Whoever owns the action does not close it
 * (separation of duties): the management body or an ISMS lead who does not own it does.
 */
export async function closeDecision(ctx: CommandContext, ref: { review: string; number: number }, note: string | undefined) {
  const { review, decision } = await loadDecision(ctx, ref);
  const entityRef = `${review.ref}/${ref.number}`;
  if (decision.status === 'closed') throw conflict(`${entityRef} was already closed. Nothing was recorded.`);
  const [item] = decision.poamItemId ? await ctx.db.select().from(poamItems).where(eq(poamItems.id, decision.poamItemId)).for('update') : [];
  const own = [{ by: decision.ownerId, did: `own the action of ${entityRef}${item ? ` (${item.ref})` : ''}` }];
  // The management body decides these itself, so only the ownership rule of refuseOwnWork applies.
  if (own.some((d) => d.by === ctx.actor.id)) await refuseOwnWork(ctx, { what: entityRef, verb: 'closes', deeds: own });

  const [closed] = await ctx.db.update(reviewDecisions).set({ status: 'closed' }).where(eq(reviewDecisions.id, decision.id)).returning();
  await ctx.audit({ action: 'close', entity: 'review_decision', entityRef, before: decision, after: { ...closed, note: note ?? null } });
  let completed;
  if (item && item.status !== 'completed') {
    [completed] = await ctx.db.update(poamItems).set({ status: 'completed', completedAt: ctx.now }).where(eq(poamItems.id, item.id)).returning();
    await ctx.audit({ action: 'complete', entity: 'poam_item', entityRef: item.ref, before: item, after: completed });
  }
  return { entityRef, decision: closed, item: completed ?? item };
}

export const reviewDecisionCloseCommand = defineCommand({
  name: 'review decision close',
  summary: 'Close a management review decision once its action is done, completing its POA&M item (never your own action)',
  examples: ['review decision close MR-0001/1 "MFA enforced for all remote access"'],
  roles: ['isms_lead', 'management_body'],
  schema: z.object({
    decision: decisionRef.describe('The decision, e.g. MR-0001/1'),
    note: z.string().trim().min(1).max(4000, 'must be at most 4000 characters').optional().describe('How the action was carried out; kept in the audit trail with the closure'),
  }),
  args: { decision: { positional: true, value: 'MR-ref/number', placeholder: 'e.g. MR-0001/1' }, note: { positional: 'rest', label: 'What was done' } },
  form: { title: 'Close a management review decision', submitLabel: 'Close' },
  async run(ctx, input) {
    const { entityRef, decision, item } = await closeDecision(ctx, input.decision, input.note);
    return {
      ...reply(
        text(`Closed ${entityRef}${item ? `; its POA&M item ${item.ref} is completed` : ''}.`, 'success'),
        fields([{ label: 'Decision', value: decision.decision }, ...(input.note ? [{ label: 'What was done', value: input.note }] : [])]),
      ),
      about: input.decision.review,
    };
  },
});

/** The chair closes the review: its attendees, chair and decisions are final from then on. */
export async function closeReview(ctx: CommandContext, ref: string) {
  const review = await loadReview(ctx, ref);
  await refuseClosed(ctx, review, 'closing it again');
  if (!review.chairId) {
    throw conflict(`${ref} has no chair recorded, and only its chair closes it. Nothing was recorded.`,
      `The ISMS lead records the chair with "/isms review record ${ref} --chair <email>".`);
  }
  if (review.chairId !== ctx.actor.id) {
    const chair = await findPersonById(ctx.db, review.chairId);
    throw forbidden(`Only the chair of ${ref}, ${chair?.name ?? 'who is no longer in the register'}, closes it. Nothing was recorded.`);
  }
  if (!hasRole(ctx.actor, 'management_body')) {
    throw forbidden(`You chaired ${ref} but are no longer a member of the management body, so you cannot close it. Nothing was recorded.`,
      'The ISMS lead records a current member as chair first.');
  }
  const [closed] = await ctx.db.update(managementReviews).set({ status: 'closed', closedBy: ctx.actor.id, closedAt: ctx.now })
    .where(eq(managementReviews.id, review.id)).returning();
  await ctx.audit({ action: 'close', entity: 'management_review', entityRef: ref, before: review, after: closed });
  const open = await ctx.db.select({ id: reviewDecisions.id }).from(reviewDecisions)
    .where(and(eq(reviewDecisions.reviewId, review.id), eq(reviewDecisions.status, 'open')));
  return { review: closed, openDecisions: open.length };
}

export const reviewCloseCommand = defineCommand({
  name: 'review close',
  summary: 'Close a management review as its chair: its record is final (open decisions stay tracked on the POA&M)',
  examples: ['review close MR-0001'],
  roles: ['management_body', 'isms_lead'],
  schema: z.object({ review: registerRef('MR').describe('The management review, e.g. MR-0001') }),
  args: { review: { positional: true, value: 'MR-ref', options: reviewOptions } },
  form: { title: 'Close a management review', submitLabel: 'Close the review' },
  async run(ctx, input) {
    const { review, openDecisions } = await closeReview(ctx, input.review);
    const still = openDecisions ? ` ${openDecisions} decision${openDecisions === 1 ? '' : 's'} stay open on the POA&M until done.` : '';
    return { ...reply(text(`Closed the management review ${review.ref} held on ${review.heldOn}; its record is final.${still}`, 'success')), about: review.ref };
  },
});
