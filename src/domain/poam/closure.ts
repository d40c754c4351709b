import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { poamClosureFileChunks, poamClosures, poamItems } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { decidersOf, refuseOwnWork } from '../../core/duties.js';
import { conflict, invalid } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { registerRef } from '../../core/validate.js';
import { actions, fields, formBlock, reply, text, type Field } from '../../core/reply.js';
import { asLink } from '../evidence/submit.js';
import { refuseUnfitAttachments, storeFileChunks } from '../evidence/store.js';
import { loadItem, personName, statusInWords, type Closure, type PoamItem } from './items.js';

/** What the closure evidence says, as fields. */
export function closureFields(closure: Closure): Field[] {
  return [
    { label: 'Closure', value: closure.ref },
    ...(closure.text ? [{ label: 'What was done', value: closure.text }] : []),
    ...(closure.link ? [{ label: 'Link', value: closure.link }] : []),
    ...(closure.fileName ? [{ label: 'File', value: `${closure.fileName} (${closure.fileSize} bytes)` }] : []),
    ...(closure.fileSha256 ? [{ label: 'SHA-256', value: closure.fileSha256 }] : []),
  ];
}

/**
 * Records the claim that an item is done, with its closure evidence (a text or link, and/or one file
 * stored like evidence files), and puts the item in "completed, awaiting verification": escalation
 * stops. Those free to verify it (core/duties.ts) are asked.
 */
export async function claimClosure(ctx: CommandContext, item: PoamItem, done: string | undefined) {
  refuseUnfitAttachments(ctx.attachments);
  if (ctx.attachments.length > 1) {
    throw invalid(`Attach one file as closure evidence, not ${ctx.attachments.length}.`, 'Put several files in one archive, or link to where they are.');
  }
  const content = done?.trim() || undefined;
  const link = content ? asLink(content) : undefined;
  const [file] = ctx.attachments;
  const ref = await nextRef(ctx.db, 'PCL');
  let [closure] = await ctx.db.insert(poamClosures).values({
    ref, itemId: item.id, text: link ? undefined : content, link, fileName: file?.name, submittedBy: ctx.actor.id, submittedAt: ctx.now,
  }).returning();
  if (file) {
    const { size, sha256 } = await storeFileChunks(file, (seq, bytes) =>
      ctx.db.insert(poamClosureFileChunks).values({ closureId: closure.id, seq, bytes }));
    [closure] = await ctx.db.update(poamClosures).set({ fileSize: size, fileSha256: sha256 }).where(eq(poamClosures.id, closure.id)).returning();
  }
  await ctx.audit({ action: 'submit', entity: 'poam_closure', entityRef: ref, after: closure });
  const [claimed] = await ctx.db.update(poamItems).set({ status: 'awaiting_verification' }).where(eq(poamItems.id, item.id)).returning();
  await ctx.audit({ action: 'complete', entity: 'poam_item', entityRef: item.ref, before: item, after: claimed });

  const { people: verifiers } = await decidersOf(ctx.db, [item.ownerId, ctx.actor.id]);
  for (const verifier of verifiers) {
    await ctx.notify({
      recipientId: verifier.id,
      kind: 'poam_closure',
      idempotencyKey: `poam-closure:${ref}:verify:${verifier.id}`,
      reply: {
        ...reply(
          text(`${ctx.actor.name} marked ${item.ref} (${item.weakness}) done. Please verify it against the closure evidence, or reopen it with a reason.`),
          fields(closureFields(closure)),
          actions(
            { label: 'Verify', command: `poam verify ${item.ref}`, style: 'primary' },
            { label: 'Reopen', command: `poam reopen ${item.ref}`, style: 'danger' },
          ),
        ),
        about: item.ref,
      },
    });
  }
  return { closure, told: verifiers.map((v) => v.name) };
}

/**
 * The item and its closure claim, locked, once the actor is one who may verify it: neither its owner
 * nor whoever marked it done (core/duties.ts).
 */
async function loadClaim(ctx: CommandContext, ref: string): Promise<{ item: PoamItem; closure: Closure }> {
  const item = await loadItem(ctx.db, ref);
  const [closure] = item.status === 'awaiting_verification'
    ? await ctx.db.select().from(poamClosures)
      .where(and(eq(poamClosures.itemId, item.id), eq(poamClosures.status, 'awaiting_verification'))).for('update')
    : [];
  if (!closure) {
    throw conflict(`${item.ref} is ${statusInWords(item.status)}, not awaiting verification; nothing changed.`,
      `Its owner marks it done with "/isms poam done ${item.ref} <what was done>" first.`);
  }
  await refuseOwnWork(ctx, {
    what: item.ref,
    verb: 'verifies',
    deeds: [
      { by: item.ownerId, did: `own ${item.ref}` },
      { by: closure.submittedBy, did: `marked ${item.ref} done yourself` },
    ],
  });
  return { item, closure };
}

type Verdict = 'verified' | 'reopened';

/**
 * Verified: the item is completed. Reopened: it is back in progress (so reminders and escalation
 * resume) and its owner is told why.
 */
export async function decideClosure(ctx: CommandContext, ref: string, verdict: Verdict, note: string | undefined) {
  const { item, closure } = await loadClaim(ctx, ref);
  const [decided] = await ctx.db.update(poamClosures).set({ status: verdict, decidedBy: ctx.actor.id, decidedAt: ctx.now, decisionNote: note })
    .where(eq(poamClosures.id, closure.id)).returning();
  await ctx.audit({ action: verdict === 'verified' ? 'verify' : 'reopen', entity: 'poam_closure', entityRef: closure.ref, before: closure, after: decided });
  const [after] = await ctx.db.update(poamItems)
    .set(verdict === 'verified' ? { status: 'completed', completedAt: ctx.now } : { status: 'in_progress', completedAt: null })
    .where(eq(poamItems.id, item.id)).returning();
  await ctx.audit({ action: verdict === 'verified' ? 'verify' : 'reopen', entity: 'poam_item', entityRef: item.ref, before: item, after });

  const outcome = verdict === 'verified'
    ? text(`${ctx.actor.name} verified ${item.ref} (${item.weakness}): it is completed.`, 'success')
    : text(`${ctx.actor.name} reopened ${item.ref} (${item.weakness}); it is in progress again, due ${item.dueOn}: "${note}"`, 'warning');
  await ctx.notify({
    recipientId: item.ownerId,
    kind: 'poam_closure',
    idempotencyKey: `poam-closure:${closure.ref}:${verdict}:${item.ownerId}`,
    reply: {
      ...reply(
        outcome,
        ...(verdict === 'verified' && note ? [fields([{ label: 'Note', value: note }])] : []),
        ...(verdict === 'reopened' ? [actions({ label: 'Mark done again', command: `poam done ${item.ref}`, style: 'primary' })] : []),
      ),
      about: item.ref,
    },
  });
  return { item: after, closure: decided };
}

const decideInput = z.object({
  item: registerRef('POAM').describe('The POA&M item marked done, e.g. POAM-0001'),
  note: z.string().trim().min(1).max(2000).optional().describe('A note for the owner (required to reopen: why)'),
  via: z.literal('form').optional(),
});

function closureCommand(verdict: Verdict) {
  const verb = verdict === 'verified' ? 'verify' : 'reopen';
  return defineCommand({
    name: `poam ${verb}`,
    summary: verdict === 'verified'
      ? 'Verify a POA&M item marked done against its closure evidence: it is completed (never your own item or closure)'
      : 'Reopen a POA&M item marked done, with the reason its owner reads: it is in progress again',
    examples: verdict === 'verified' ? ['poam verify POAM-0001 "MFA login checked on two accounts"'] : ['poam reopen POAM-0001 "the VPN still accepts passwords alone for contractors"'],
    // The management body verifies only where every ISMS lead had a part (core/duties.ts).
    roles: ['isms_lead', 'management_body'],
    schema: decideInput,
    args: {
      item: { positional: true, label: 'POA&M item', value: 'POAM-ref' },
      note: verdict === 'verified' ? { positional: 'rest' } : { positional: 'rest', required: true, label: 'Why is it reopened? The owner reads this.' },
      via: { hidden: true },
    },
    form: { title: verdict === 'verified' ? 'Verify a POA&M item' : 'Reopen a POA&M item', submitLabel: verdict === 'verified' ? 'Verify' : 'Reopen', hidden: { via: 'form' } },
    async run(ctx, input) {
      if (verdict === 'reopened' && !input.note) {
        if (input.via) throw invalid('Say why the item is reopened: its owner is told the reason.').on('note');
        // The "Reopen" button names only the item: ask for the reason the owner will read.
        await loadClaim(ctx, input.item);
        return reply(formBlock(await ctx.form({ title: `Reopen ${input.item}`, known: { item: input.item } })));
      }
      const { item, closure } = await decideClosure(ctx, input.item, verdict, input.note);
      const owner = await personName(ctx.db, item.ownerId);
      return {
        ...reply(
          text(verdict === 'verified'
            ? `Verified ${item.ref} (${item.weakness}) against ${closure.ref}: it is completed. ${owner} has been told.`
            : `Reopened ${item.ref} (${item.weakness}): it is in progress again, due ${item.dueOn}. ${owner} has been told why.`, 'success'),
          ...(input.note ? [fields([{ label: verdict === 'verified' ? 'Note' : 'Reason', value: input.note }])] : []),
        ),
        about: item.ref,
      };
    },
  });
}

export const poamVerifyCommand = closureCommand('verified');
export const poamReopenCommand = closureCommand('reopened');
