import { z } from 'zod';
import { and, asc, desc, eq, inArray, isNull, max, sql } from 'drizzle-orm';
import { controls, evidenceItems, evidenceRequests } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { nextRef } from '../../core/refs.js';
import { isoDate } from '../../core/validate.js';
import { isLead, findPersonById } from '../../core/actor.js';
import { conflict, forbidden, invalid } from '../../core/errors.js';
import { reply, text, fields, formBlock, type Block } from '../../core/reply.js';
import { asRequestRef, findControl, findRequest, type Control, type EvidenceRequest } from './lookup.js';
import { addDays, readersDay } from '../../core/time.js';
import { fileDigest, refuseUnfitAttachments, storeEvidenceFile } from './store.js';
import type { Attachment } from '../../core/router.js';

export type EvidenceItem = typeof evidenceItems.$inferSelect;

export interface SubmitEvidenceInput {
  /** An evidence request (EVR-0001) or a control id (CTL-AC-01). */
  target: string;
  /** Free text, or a http(s) link. */
  text?: string;
  /** YYYY-MM-DD; today when left out. */
  effective?: string;
}

export interface SubmittedEvidence {
  control: Control;
  /** Undefined when the evidence was recorded against the control without a request. */
  request?: EvidenceRequest;
  /** The revisions recorded; when `alreadyRecorded`, the latest ones, which the submission repeats. */
  items: EvidenceItem[];
  /** Nothing was recorded: the files and text were those of the latest revision(s) already, for the same effective day. */
  alreadyRecorded?: boolean;
  /** The latest revision(s), whose files and text the new ones repeat for another effective day (the evidence still holds). */
  repeated?: EvidenceItem[];
}

interface Target { control: Control; request?: EvidenceRequest }

/**
 * The request the evidence is for. A control id stands for its outstanding request (open first,
 * then submitted but not yet accepted); without one, the evidence belongs to the control alone.
 * The row is locked so concurrent submissions number their revisions one after the other.
 */
async function resolveTarget(ctx: CommandContext, target: string): Promise<Target> {
  const requestRef = asRequestRef(target);
  if (requestRef) {
    const request = await findRequest(ctx.db, requestRef, true);
    const [control] = await ctx.db.select().from(controls).where(eq(controls.id, request.controlId));
    return { control, request };
  }
  const control = await findControl(ctx.db, target, true);
  const [request] = await ctx.db.select().from(evidenceRequests)
    .where(and(eq(evidenceRequests.controlId, control.id), inArray(evidenceRequests.status, ['open', 'submitted'])))
    .orderBy(sql`${evidenceRequests.status} = 'open' desc`, asc(evidenceRequests.dueOn), asc(evidenceRequests.id))
    .limit(1).for('update');
  return { control, request };
}

/** Only the owner of the request (or of the control, when there is no request) or the ISMS lead may submit. */
async function authorise(ctx: CommandContext, { control, request }: Target): Promise<void> {
  if (isLead(ctx.actor)) return;
  const ownerId = request ? request.ownerId : control.ownerId;
  if (ownerId === ctx.actor.id) return;
  const what = request ? request.ref : control.code;
  if (ownerId === null) {
    throw forbidden(`${control.code} has no owner and no open evidence request: only the ISMS lead can record evidence for it.`);
  }
  const owner = await findPersonById(ctx.db, ownerId);
  throw forbidden(`${what} belongs to ${owner ? `${owner.name} <${owner.email}>` : 'someone else'}: only they or the ISMS lead can submit evidence for it.`,
    'If it should be yours, ask the ISMS lead to reassign it.');
}

/** A cancelled or accepted request takes no more evidence: a new revision would reopen it behind the reviewer's back. */
function refuseClosed({ control, request }: Target): void {
  if (request?.status === 'cancelled' || request?.status === 'accepted') {
    throw conflict(`${request.ref} was ${request.status}, so it takes no more evidence. Nothing was recorded.`,
      `Submit it for the control instead: "/isms evidence submit ${control.code} …".`);
  }
}

/** The text as a link when it is one http(s) URL, else undefined. */
export function asLink(value: string): string | undefined {
  if (!/^https?:\/\/\S+$/i.test(value)) return undefined;
  try {
    new URL(value);
    return value;
  } catch {
    return undefined;
  }
}

/**
 * Whether a submission repeats what the latest revisions hold: one for each of its files (or one for text
 * alone), the same text or link and the same bytes each. A file like one of an older revision only is new
 * (resubmitted after another was sent back); files are read only when all else matches.
 */
async function repeatsLatest(latest: EvidenceItem[], files: (Attachment | undefined)[], text: string | undefined, link: string | undefined): Promise<boolean> {
  if (latest.length !== files.length) return false;
  const sameAsGiven = (item: EvidenceItem, file: Attachment | undefined) =>
    item.text === (text ?? null) && item.link === (link ?? null) && (item.fileSha256 === null) === !file;
  if (!latest.every((item, i) => sameAsGiven(item, files[i]))) return false;
  for (const [i, file] of files.entries()) {
    if (file && (await fileDigest(file)).sha256 !== latest[i].fileSha256) return false;
  }
  return true;
}

/**
 * Records evidence as new revisions (one per attached file, or one for text/link alone); nothing is
 * overwritten. The request, if any, moves to "submitted". Files come from ctx.attachments.
 * The same files and text as the latest revision(s), for the same effective day, record nothing: a message
 * sent twice is recorded once. For another day (today, when the latest is older) they are a new revision:
 * the owner shows the evidence still holds.
 */
export async function submitEvidence(ctx: CommandContext, input: SubmitEvidenceInput): Promise<SubmittedEvidence> {
  const content = input.text?.trim() || undefined;
  if (!content && ctx.attachments.length === 0) {
    throw invalid('There is nothing to record: give a text, a link or a file.',
      'For example "/isms evidence submit EVR-0001 https://wiki.example.com/access-review", or attach a file.');
  }
  // The stated size refuses an oversized file before anything is read; the bytes read are checked too.
  refuseUnfitAttachments(ctx.attachments);
  const today = readersDay(ctx.now, ctx.actor.timezone);
  const effectiveOn = input.effective?.trim() || today;
  if (effectiveOn > today) {
    throw invalid(`The effective date ${effectiveOn} is in the future.`,
      `Evidence can be effective today (${today}) or earlier; leave --effective out for today.`).on('effective');
  }
  const target = await resolveTarget(ctx, input.target);
  await authorise(ctx, target);
  const { control, request } = target;
  refuseClosed(target);

  const sameChain = request
    ? eq(evidenceItems.requestId, request.id)
    : and(eq(evidenceItems.controlId, control.id), isNull(evidenceItems.requestId));
  const link = content ? asLink(content) : undefined;
  const files = ctx.attachments.length ? ctx.attachments : [undefined];
  const latest = (await ctx.db.select().from(evidenceItems).where(sameChain)
    .orderBy(desc(evidenceItems.revision)).limit(files.length)).reverse();
  const repeated = await repeatsLatest(latest, files, link ? undefined : content, link) ? latest : undefined;
  if (repeated?.every((item) => item.effectiveOn === effectiveOn)) return { control, request, items: latest, alreadyRecorded: true };
  const [{ last }] = await ctx.db.select({ last: max(evidenceItems.revision) }).from(evidenceItems).where(sameChain);
  let revision = last ?? 0;

  const items: EvidenceItem[] = [];
  for (const file of files) {
    const ref = await nextRef(ctx.db, 'EV');
    let [item] = await ctx.db.insert(evidenceItems).values({
      ref,
      requestId: request?.id,
      controlId: control.id,
      revision: ++revision,
      submittedBy: ctx.actor.id,
      submittedAt: ctx.now,
      effectiveOn,
      text: link ? undefined : content,
      link,
      fileName: file?.name,
      channel: ctx.channel,
    }).returning();
    if (file) {
      // Size and hash are known once the bytes are stored; the row is only seen after the transaction.
      const { size, sha256 } = await storeEvidenceFile(ctx.db, item.id, file);
      [item] = await ctx.db.update(evidenceItems).set({ fileSize: size, fileSha256: sha256 })
        .where(eq(evidenceItems.id, item.id)).returning();
    }
    await ctx.audit({ action: 'submit', entity: 'evidence_item', entityRef: ref, after: item });
    items.push(item);
  }

  if (request && request.status !== 'submitted') {
    const [updated] = await ctx.db.update(evidenceRequests).set({ status: 'submitted' })
      .where(eq(evidenceRequests.id, request.id)).returning();
    await ctx.audit({ action: 'submit', entity: 'evidence_request', entityRef: request.ref, before: { status: request.status }, after: { status: updated.status } });
    return { control, request: updated, items, repeated };
  }
  return { control, request, items, repeated };
}

function describeItem(item: EvidenceItem): Block {
  return fields([
    { label: 'Evidence', value: item.ref },
    { label: 'Revision', value: String(item.revision) },
    { label: 'Effective', value: item.effectiveOn },
    ...(item.link ? [{ label: 'Link', value: item.link }] : []),
    ...(item.text ? [{ label: 'Text', value: item.text }] : []),
    ...(item.fileName ? [{ label: 'File', value: `${item.fileName} (${item.fileSize} bytes)` }] : []),
    ...(item.fileSha256 ? [{ label: 'SHA-256', value: item.fileSha256 }] : []),
  ]);
}

/** "revision 3 (EV-0007" or "revisions 3–4 (EV-0007, EV-0008": the revisions a submission repeats, their references after. */
function revisionsInWords(items: EvidenceItem[]): string {
  const first = items[0];
  const last = items[items.length - 1];
  const revisions = items.length === 1 ? `revision ${first.revision}` : `revisions ${first.revision}–${last.revision}`;
  return `${revisions} (${items.map((i) => i.ref).join(', ')}`;
}

/** What was given again, as the latest revision(s) hold it: "text and file", "link", "files". */
function givenAgain(ctx: CommandContext, items: EvidenceItem[]): string {
  const last = items[items.length - 1];
  const given = [last.link ? 'link' : last.text !== null && 'text', ctx.attachments.length > 1 ? 'files' : ctx.attachments.length === 1 && 'file'];
  return given.filter(Boolean).join(' and ');
}

/** The answer to a submission that repeats the latest revision(s) for their effective day: nothing was recorded, and where it already is. */
function alreadyRecordedReply(ctx: CommandContext, items: EvidenceItem[], known: string, sentBack: boolean) {
  const last = items[items.length - 1];
  const day = readersDay(last.submittedAt, ctx.actor.timezone);
  const said = `This is already recorded for ${known} as ${revisionsInWords(items)}, ${day}): the same ${givenAgain(ctx, items)}, effective ${last.effectiveOn}. Nothing was recorded again.`;
  const hint = sentBack
    ? `${known} was sent back after it: to hand in a correction, submit the changed file or text.`
    : 'To hand in something else, submit the changed file or text: it is added as a new revision.';
  return { ...reply(text(said, 'info'), text(hint)), outcome: 'info' as const };
}

export const submitEvidenceCommand = defineCommand({
  name: 'evidence submit',
  aliases: ['submit evidence'],
  summary: 'Submit evidence (a text, a link or a file) for an evidence request or a control',
  examples: (today) => [
    `evidence submit EVR-0001 https://wiki.example.com/access-review-q3 --effective ${addDays(today, -7)}`,
    'evidence submit CTL-AC-01 "Quarterly access review done, no findings"',
  ],
  schema: z.object({
    target: z.string({ required_error: 'name the evidence request (e.g. EVR-0001) or the control (e.g. CTL-AC-01)' })
      .trim().min(1, 'name the evidence request (e.g. EVR-0001) or the control (e.g. CTL-AC-01)').max(100)
      .describe('The evidence request (EVR-0001) or the control (CTL-AC-01) the evidence is for'),
    text: z.string().trim().max(20_000, 'is too long: put long evidence in a file or behind a link').optional()
      .describe('What shows the control works, or a link to it'),
    effective: isoDate.optional().describe('The day the evidence shows; empty means today'),
    /** The file itself arrives as an attachment; the field only names it. */
    file: z.unknown().optional().describe('A file attached to the message (in the terminal: --file <path>)'),
    via: z.literal('form').optional(),
  }),
  args: {
    target: { positional: true, label: 'Evidence request or control', value: 'EVR-0001 or control id', placeholder: 'EVR-0001 or CTL-AC-01' },
    text: { positional: 'rest', label: 'Text or link', value: 'text or link', placeholder: 'What shows the control works, or a link to it' },
    effective: { label: 'Effective date' },
    file: { field: 'file' },
    // Tells an empty form submission (refused) from a bare "evidence submit EVR-…" (opens the form).
    via: { hidden: true },
  },
  form: { title: 'Submit evidence', submitLabel: 'Submit', hidden: { via: 'form' } },
  async run(ctx, input) {
    const onlyTarget = !input.text && !input.effective && !input.via && ctx.attachments.length === 0;
    if (onlyTarget) {
      // A "Submit evidence" button: check the request and the person first, then ask for the evidence.
      const target = await resolveTarget(ctx, input.target);
      await authorise(ctx, target);
      refuseClosed(target);
      const known = target.request?.ref ?? target.control.code;
      return reply(formBlock(await ctx.form({ title: `Submit evidence for ${known}`, known: { target: known } })));
    }
    const { control, request, items, alreadyRecorded, repeated } = await submitEvidence(ctx, input);
    if (alreadyRecorded) return alreadyRecordedReply(ctx, items, request?.ref ?? control.code, request?.status === 'open');
    const refs = items.map((i) => `${i.ref} (revision ${i.revision})`).join(', ');
    const blocks: Block[] = [
      text(`Recorded ${refs} for ${request ? `${request.ref}, ` : ''}${control.code} ${control.title}.`, 'success'),
    ];
    if (!request) {
      blocks.push(text(`${control.code} has no open evidence request, so the evidence is recorded against the control without a request.`));
    }
    if (repeated) {
      blocks.push(text(`The same ${givenAgain(ctx, repeated)} as ${revisionsInWords(repeated)}, effective ${repeated[repeated.length - 1].effectiveOn}), `
        + `recorded again as effective ${items[0].effectiveOn}: it shows the evidence holds on that day.`));
    }
    for (const item of items) blocks.push(describeItem(item));
    return { ...reply(...blocks), evidenceFor: request?.ref ?? control.code };
  },
});
