import { createHash } from 'node:crypto';
import { z } from 'zod';
import { and, asc, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { controls, evidenceItems, evidenceRequests, people } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { personNamed, findPersonById, isLead, type Actor } from '../../core/actor.js';
import { conflict, forbidden, invalid, notFound } from '../../core/errors.js';
import { seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { actions, fields, formBlock, reply, text, type Button, type Field, type ListItem } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import type { Db } from '../../db/client.js';
import { asRequestRef, findControl, findRequest, type Control, type EvidenceRequest } from './lookup.js';
import { asEvidenceRef } from './show.js';
import type { EvidenceItem } from './submit.js';
import { summariesOf, summaryField } from './summary.js';
import { periodInWords } from './words.js';

type Verdict = 'accepted' | 'returned';

interface UnderReview { request: EvidenceRequest; control: Control; item?: EvidenceItem }

const TARGET_HINT = 'name the evidence request (e.g. EVR-0001) or the revision (e.g. EV-0003)';

/**
 * The request and the revision a verdict is about: an EV reference names the revision, an EVR
 * reference stands for its latest. The request row is locked, so two reviewers are served in turn.
 */
async function findUnderReview(ctx: CommandContext, target: string): Promise<UnderReview> {
  const evidenceRef = asEvidenceRef(target);
  const requestRef = asRequestRef(target);
  let item: EvidenceItem | undefined;
  let request: EvidenceRequest;
  if (evidenceRef) {
    [item] = await ctx.db.select().from(evidenceItems).where(eq(evidenceItems.ref, evidenceRef));
    if (!item) throw notFound(`${evidenceRef} does not exist.`, '"/isms evidence review" lists the evidence waiting for review.');
    if (item.requestId === null) {
      throw invalid(`${evidenceRef} was recorded for its control without an evidence request, so there is no request to accept or send back.`,
        'Only evidence submitted against a request (EVR-…) is reviewed.').on('target');
    }
    [request] = await ctx.db.select().from(evidenceRequests).where(eq(evidenceRequests.id, item.requestId)).for('update');
  } else if (requestRef) {
    request = await findRequest(ctx.db, requestRef, true);
    [item] = await ctx.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, request.id))
      .orderBy(desc(evidenceItems.revision)).limit(1);
  } else {
    throw invalid(`"${target}" is neither an evidence request nor evidence: ${TARGET_HINT}.`).on('target');
  }
  const [control] = await ctx.db.select().from(controls).where(eq(controls.id, request.controlId));
  return { request, control, item };
}

/** Who may give a verdict on a control's evidence at all: the ISMS lead, or the reviewer the lead named for it. */
const mayReview = (actor: Actor, control: Control) => isLead(actor) || control.evidenceReviewerId === actor.id;

/**
 * Nobody judges their own work: not the person who submitted the revision, nor the owner of the
 * control or of the request (who answers for the evidence even when someone else submitted it).
 */
function conflictOfInterest(actor: Actor, { request, control, item }: UnderReview): string | undefined {
  if (item?.submittedBy === actor.id) return `You submitted ${item.ref}, so someone else must review it.`;
  if (request.ownerId === actor.id || control.ownerId === actor.id) {
    return `You own ${control.ownerId === actor.id ? control.code : request.ref}, so someone else must review its evidence.`;
  }
  return undefined;
}

async function checkReviewable(ctx: CommandContext, under: UnderReview, verb: string): Promise<EvidenceItem> {
  const { request, control, item } = under;
  if (!mayReview(ctx.actor, control)) {
    const reviewer = control.evidenceReviewerId !== null ? await findPersonById(ctx.db, control.evidenceReviewerId) : undefined;
    throw forbidden(`Only the ISMS lead${reviewer ? ` or ${reviewer.name}, the evidence reviewer of ${control.code},` : ''} may ${verb} evidence for ${control.code}.`,
      'Ask your ISMS lead to name you as its reviewer with "/isms evidence reviewer" if you should review it.');
  }
  if (request.status !== 'submitted' || !item) {
    const owner = await findPersonById(ctx.db, request.ownerId);
    const waiting = `it waits for evidence from ${owner?.name ?? 'its owner'}, due ${request.dueOn}`;
    const why = {
      open: item ? `${request.ref} was sent back and has no new submission to review yet: ${waiting}.` : `${request.ref} has no submission to review yet: ${waiting}.`,
      submitted: `${request.ref} has no submission to review yet: ${waiting}.`,
      accepted: `${request.ref} was already accepted.`,
      cancelled: `${request.ref} was cancelled.`,
    }[request.status];
    throw conflict(`${why} Nothing was recorded.`, '"/isms evidence review" lists the evidence waiting for review.');
  }
  const own = conflictOfInterest(ctx.actor, under);
  if (own) {
    throw forbidden(own, `The ISMS lead can name another reviewer for ${control.code}: "/isms evidence reviewer ${control.code} <person>".`);
  }
  return item;
}

/** SHA-256 of what was submitted: the file's bytes, or the text or link as recorded. */
export function evidenceSha256(item: EvidenceItem): string {
  return item.fileSha256 ?? createHash('sha256').update(item.link ?? item.text ?? '', 'utf8').digest('hex');
}

const describe = (item: EvidenceItem) => `${item.ref} (revision ${item.revision})`;

/** Closes the request with the revision accepted; its owner is told. */
async function accept(ctx: CommandContext, under: UnderReview, item: EvidenceItem, note: string | undefined) {
  const { request, control } = under;
  const [updated] = await ctx.db.update(evidenceRequests).set({ status: 'accepted' }).where(eq(evidenceRequests.id, request.id)).returning();
  await ctx.audit({
    action: 'accept', entity: 'evidence_request', entityRef: request.ref, before: { status: request.status },
    after: { status: updated.status, acceptedEvidence: item.ref, acceptedRevision: item.revision, acceptedSha256: evidenceSha256(item), reviewNote: note ?? null },
  });
  const told = await ctx.notify({
    recipientId: request.ownerId,
    kind: 'evidence_review',
    idempotencyKey: `evidence_accepted:${request.ref}:${request.ownerId}:${item.ref}`,
    reply: {
      ...reply(text(`${ctx.actor.name} accepted your evidence ${describe(item)} for ${request.ref}, ${control.code} ${control.title}${note ? `: "${note}"` : '.'}`, 'success')),
      about: request.ref,
    },
  });
  return { request: updated, told };
}

/** Sends the request back to its owner, open again (so reminders and escalation resume), with the reason. */
async function sendBack(ctx: CommandContext, under: UnderReview, item: EvidenceItem, reason: string) {
  const { request, control } = under;
  const [updated] = await ctx.db.update(evidenceRequests).set({ status: 'open' }).where(eq(evidenceRequests.id, request.id)).returning();
  await ctx.audit({
    action: 'return', entity: 'evidence_request', entityRef: request.ref, before: { status: request.status },
    after: { status: updated.status, returnedEvidence: item.ref, returnedRevision: item.revision, returnedSha256: evidenceSha256(item), returnReason: reason },
  });
  const told = await ctx.notify({
    recipientId: request.ownerId,
    kind: 'evidence_request',
    // A request may be sent back more than once; each return is its own message.
    idempotencyKey: `evidence_returned:${request.ref}:${request.ownerId}:${item.ref}:${ctx.now.toISOString()}`,
    reply: {
      ...reply(
        text(`${ctx.actor.name} sent back your evidence ${describe(item)} for ${request.ref}, ${control.code} ${control.title}: "${reason}"`, 'warning'),
        text(`Please submit new evidence by ${request.dueOn}.`),
        actions({ label: 'Submit evidence', command: `evidence submit ${request.ref}`, style: 'primary' }),
      ),
      about: request.ref,
    },
  });
  return { request: updated, told };
}

const targetSchema = z.string({ required_error: TARGET_HINT }).trim().min(1, TARGET_HINT).max(100)
  .describe('The evidence request (EVR-0001), or the revision (EV-0003) that was reviewed');

function verdictCommand(verdict: Verdict) {
  const verb = verdict === 'accepted' ? 'accept' : 'return';
  return defineCommand({
    name: `evidence ${verb}`,
    summary: verdict === 'accepted'
      ? 'Accept submitted evidence, which closes its request (ISMS lead or the control\'s evidence reviewer)'
      : 'Send submitted evidence back to its owner with a reason; the request is open again',
    examples: [verdict === 'accepted' ? 'evidence accept EV-0003 "complete, signed off"' : 'evidence return EVR-0001 "the export does not show the review date"'],
    schema: z.object({
      target: targetSchema,
      reason: z.string().trim().max(2000).optional()
        .describe(verdict === 'accepted' ? 'A note for the owner, if any' : 'Why it is sent back; the owner is told (required)'),
      via: z.literal('form').optional(),
    }),
    args: {
      target: { positional: true, label: 'Evidence', value: 'EVR-0001 or EV-0003', placeholder: 'EVR-0001 or EV-0003' },
      reason: verdict === 'accepted'
        ? { positional: 'rest', label: 'Note', value: 'note' }
        : { positional: 'rest', required: true, label: 'Why is it sent back?', value: 'reason' },
      // Tells a submitted form without a reason (refused) from the bare Return button (which opens the form).
      via: { hidden: true },
    },
    form: { title: verdict === 'accepted' ? 'Accept evidence' : 'Send evidence back', submitLabel: verdict === 'accepted' ? 'Accept' : 'Send back', hidden: { via: 'form' } },
    async run(ctx, input) {
      const under = await findUnderReview(ctx, input.target);
      const item = await checkReviewable(ctx, under, verb);
      const { request, control } = under;
      if (verdict === 'returned' && !input.reason) {
        if (input.via) throw invalid('Say why the evidence is sent back: its owner is told the reason.').on('reason');
        // The Return button carries only the reference: ask for the reason instead of failing.
        return reply(
          text(`Sending evidence back needs a reason: say what is missing from ${item.ref}, e.g. `
            + `"${commandLine(ctx.channel, `evidence return ${item.ref} the export does not show the review date`)}". Nothing was recorded.`, 'error'),
          formBlock(await ctx.form({ title: `Send back ${item.ref} (${request.ref})`, known: { target: item.ref } })),
        );
      }
      const done = verdict === 'accepted' ? await accept(ctx, under, item, input.reason) : await sendBack(ctx, under, item, input.reason!);
      const owner = await findPersonById(ctx.db, request.ownerId);
      return reply(
        text(verdict === 'accepted'
          ? `Accepted ${describe(item)} for ${request.ref}, ${control.code} ${control.title}. The request is closed.`
          : `Sent ${describe(item)} back to ${owner?.name ?? 'its owner'}; ${request.ref} is open again, due ${request.dueOn}.`, 'success'),
        fields([
          { label: 'Request', value: request.ref },
          { label: 'Status', value: done.request.status },
          { label: 'Evidence', value: describe(item) },
          { label: 'SHA-256', value: evidenceSha256(item) },
          ...(input.reason ? [{ label: verdict === 'accepted' ? 'Note' : 'Reason', value: input.reason }] : []),
          ...(done.told && owner ? [{ label: 'Told', value: owner.name }] : []),
        ]),
      );
    },
  });
}

export const acceptEvidenceCommand = verdictCommand('accepted');
export const returnEvidenceCommand = verdictCommand('returned');

/** "https://…", "file.pdf (1234 bytes)" or the text's start: enough to know what is being reviewed. */
function contentOf(item: EvidenceItem): Field {
  if (item.fileName) return { label: 'File', value: `${item.fileName} (${item.fileSize} bytes)` };
  if (item.link) return { label: 'Link', value: item.link };
  const body = item.text ?? '';
  return { label: 'Text', value: body.length > 200 ? `${body.slice(0, 200)}…` : body };
}

/** Submitted evidence the person reviews: the ISMS lead every control's, anyone else only that of controls they were named for. */
function awaitingReviewBy(db: Db, actor: Actor): SQL | undefined {
  const mine: SQL[] = [eq(evidenceRequests.status, 'submitted')];
  if (!isLead(actor)) {
    mine.push(inArray(evidenceRequests.controlId, db.select({ id: controls.id }).from(controls).where(eq(controls.evidenceReviewerId, actor.id))));
  }
  return and(...mine);
}

/** How many evidence submissions wait for the person's review. */
export async function evidenceAwaitingReviewBy(db: Db, actor: Actor): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(evidenceRequests).where(awaitingReviewBy(db, actor));
  return n;
}

export const reviewEvidenceCommand = defineCommand({
  name: 'evidence review',
  readOnly: true,
  summary: 'Submitted evidence waiting for your review, each with Accept and Return buttons',
  examples: ['evidence review', 'evidence review --page 2'],
  schema: z.object(seekFields),
  args: seekArgs,
  async run(ctx, position) {
    // Soonest due first: a page is found by seeking (due date, id), whatever its position in the queue.
    const w = await seekPage(ctx.db, evidenceRequests, evidenceRequests.id, position, 'evidence review', 'The list of evidence waiting for review',
      awaitingReviewBy(ctx.db, ctx.actor), { by: [evidenceRequests.dueOn] });
    const n = w.count;
    const rows = w.ids.length === 0 ? [] : await ctx.db.select({ request: evidenceRequests, control: controls, owner: people.name }).from(evidenceRequests)
      .innerJoin(controls, eq(controls.id, evidenceRequests.controlId)).innerJoin(people, eq(people.id, evidenceRequests.ownerId))
      .where(inArray(evidenceRequests.id, w.ids)).orderBy(asc(evidenceRequests.dueOn), asc(evidenceRequests.id));
    const latest = new Map<number, EvidenceItem>();
    const ids = rows.map((r) => r.request.id);
    if (ids.length) {
      for (const item of await ctx.db.select().from(evidenceItems).where(inArray(evidenceItems.requestId, ids)).orderBy(asc(evidenceItems.revision))) {
        latest.set(item.requestId!, item);
      }
    }
    const summaries = await summariesOf(ctx.db, [...latest.values()].map((i) => i.id));
    const submitters = new Map<number, string>();
    for (const item of latest.values()) {
      if (!submitters.has(item.submittedBy)) submitters.set(item.submittedBy, (await findPersonById(ctx.db, item.submittedBy))?.name ?? 'someone');
    }
    const items: ListItem[] = rows.map(({ request, control, owner }) => {
      const item = latest.get(request.id);
      const own = conflictOfInterest(ctx.actor, { request, control, item });
      const buttons: Button[] = item && !own ? [
        { label: 'Accept', command: `evidence accept ${item.ref}`, style: 'primary' },
        { label: 'Return', command: `evidence return ${item.ref}`, style: 'danger' },
      ] : [];
      return {
        title: `${request.ref} — ${control.code} ${control.title}`,
        detail: item ? `${describe(item)} submitted by ${submitters.get(item.submittedBy)} on ${readersDay(item.submittedAt, ctx.actor.timezone)}` : 'no revision recorded',
        fields: [
          { label: 'Owner', value: owner },
          { label: 'Period', value: periodInWords(request.cycle) },
          { label: 'Due', value: request.dueOn },
          ...(item ? [contentOf(item), { label: 'Effective', value: item.effectiveOn }] : []),
          ...(item && summaries.has(item.id) ? [summaryField(summaries.get(item.id)!)] : []),
          ...(own ? [{ label: 'Not for you', value: own }] : []),
        ],
        buttons: [...buttons, { label: 'Show', command: `evidence show ${request.ref}` }],
      };
    });
    return reply(
      text(n === 0 ? 'No evidence is waiting for your review.' : `${n} evidence submission${n === 1 ? '' : 's'} waiting for review.`),
      { type: 'list', title: 'Waiting for review', items, empty: 'Nothing to review right now.', page: w.page },
    );
  },
});

/** Names (or, with "none", removes) the person besides the ISMS lead who reviews a control's evidence. */
export const evidenceReviewerCommand = defineCommand({
  name: 'evidence reviewer',
  summary: "Name who reviews a control's evidence besides the ISMS lead (\"none\" removes them)",
  examples: ['evidence reviewer CTL-AC-01 amara.okafor@northwind.example', 'evidence reviewer CTL-AC-01 @Amara', 'evidence reviewer CTL-AC-01 none'],
  roles: ['isms_lead'],
  schema: z.object({
    control: z.string({ required_error: 'name the control, e.g. CTL-AC-01' }).trim().min(1, 'name the control, e.g. CTL-AC-01').max(100)
      .describe('The control, e.g. CTL-AC-01'),
    person: z.string({ required_error: 'name the reviewer by email or name, or "none"' }).trim().min(1, 'name the reviewer by email or name, or "none"').max(200)
      .describe('The reviewer\'s email or name (@name works too), or "none" to remove the reviewer'),
  }),
  args: {
    control: { positional: true, value: 'control id', placeholder: 'e.g. CTL-AC-01' },
    person: { positional: 'rest', value: 'email, @name or none', placeholder: 'their email address' },
  },
  form: { title: 'Name an evidence reviewer', submitLabel: 'Save' },
  async run(ctx, input) {
    const control = await findControl(ctx.db, input.control, true);
    let reviewer: { id: number; name: string; email: string } | null = null;
    if (input.person.toLowerCase() !== 'none') {
      reviewer = await personNamed(ctx.db, 'person', input.person);
      if (reviewer.id === control.ownerId) {
        throw invalid(`${reviewer.name} owns ${control.code}, so they cannot review its evidence.`, 'Name someone who does not own the control.').on('person');
      }
    }
    const reviewerId = reviewer?.id ?? null;
    if (reviewerId === control.evidenceReviewerId) {
      return reply(text(reviewer ? `${reviewer.name} already reviews the evidence of ${control.code}.` : `${control.code} has no evidence reviewer.`));
    }
    const [updated] = await ctx.db.update(controls).set({ evidenceReviewerId: reviewerId }).where(eq(controls.id, control.id)).returning();
    await ctx.audit({
      action: 'set_evidence_reviewer', entity: 'control', entityRef: control.code,
      before: { evidenceReviewerId: control.evidenceReviewerId }, after: { evidenceReviewerId: updated.evidenceReviewerId },
    });
    if (reviewer && reviewer.id !== ctx.actor.id) {
      await ctx.notify({
        recipientId: reviewer.id, kind: 'evidence_review',
        idempotencyKey: `evidence_reviewer:${control.code}:${reviewer.id}:${ctx.now.toISOString()}`,
        reply: {
          ...reply(
            text(`${ctx.actor.name} named you the evidence reviewer of ${control.code} ${control.title}: you accept or send back the evidence submitted for it.`),
            actions({ label: 'Evidence to review', command: 'evidence review' }),
          ),
          about: control.code,
        },
      });
    }
    return reply(
      text(reviewer ? `${reviewer.name} now reviews the evidence of ${control.code} ${control.title}, besides the ISMS lead.`
        : `${control.code} ${control.title} has no evidence reviewer now; the ISMS lead reviews its evidence.`, 'success'),
      fields([
        { label: 'Control', value: `${control.code} ${control.title}` },
        { label: 'Evidence reviewer', value: reviewer ? `${reviewer.name} <${reviewer.email}>` : 'none' },
      ]),
    );
  },
});
