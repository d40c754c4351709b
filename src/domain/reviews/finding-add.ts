import { z } from 'zod';
import { auditFindings, FINDING_TYPES, poamItems } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { invalid } from '../../core/errors.js';
import { personNamed, personRef } from '../../core/actor.js';
import { nextRef } from '../../core/refs.js';
import { isoDate } from '../../core/validate.js';
import { actions, fields, reply, text, type Field } from '../../core/reply.js';
import { addMonths, readersDay } from '../../core/time.js';
import {
  assertFutureDue, assertKnownClause, capitalised, FINDING_LABELS, findingType, isNonconformity, isoClause, refuseAuditOfOwnControl,
} from './shared.js';

export const findingAddInput = z.object({
  type: findingType.describe('Major or minor nonconformity, observation, or opportunity for improvement'),
  clause: isoClause.describe('The ISO 27001 clause (e.g. 9.2) or Annex A control (e.g. A.5.15) it is against'),
  description: z.string({ required_error: 'describe what the auditor found' }).trim()
    .min(1, 'describe what the auditor found').max(4000, 'must be at most 4000 characters').describe('What the auditor found, and the evidence it rests on'),
  'root-cause': z.string().trim().min(1).max(4000, 'must be at most 4000 characters').optional().describe('Why it happened'),
  owner: personRef.optional().describe('Who owns the corrective action (email, name or @handle); required for a major or minor nonconformity'),
  due: isoDate.optional().describe('When the corrective action is due, a future date; required for a major or minor nonconformity'),
});
export type FindingAddInput = z.infer<typeof findingAddInput>;

/**
 * Records an audit finding. A nonconformity also opens a POA&M item for its corrective action,
 * owned by the named person, who is told at once.
 */
export async function addFinding(ctx: CommandContext, input: FindingAddInput) {
  const label = FINDING_LABELS[input.type];
  await assertKnownClause(ctx.db, 'clause', input.clause);
  let owner;
  if (isNonconformity(input.type)) {
    if (!input.owner || !input.due) {
      const missing = [input.owner ? '' : '--owner <email, name or @handle>', input.due ? '' : '--due YYYY-MM-DD'].filter(Boolean).join(' and ');
      throw invalid(`A ${label} opens a POA&M item for its corrective action, so it needs ${missing}.`,
        `Name who owns the corrective action and when it is due, e.g. --owner ${ctx.actor.email} --due ${addMonths(readersDay(ctx.now, ctx.actor.timezone), 3)}.`);
    }
    assertFutureDue('due', input.due, readersDay(ctx.now, ctx.actor.timezone));
    owner = await personNamed(ctx.db, 'owner', input.owner);
  } else if (input.owner || input.due) {
    throw invalid(`An ${label} does not open a POA&M item, so it takes no --owner or --due.`,
      'Leave them out, or record the finding as major_nc or minor_nc if corrective action is required.');
  }

  await refuseAuditOfOwnControl(ctx, input.clause, 'raises findings on');

  const ref = await nextRef(ctx.db, 'AF');
  const [finding] = await ctx.db.insert(auditFindings).values({
    ref, type: input.type, clause: input.clause, description: input.description, rootCause: input['root-cause'],
    status: 'open', raisedBy: ctx.actor.id, createdAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'raise', entity: 'audit_finding', entityRef: ref, after: finding });
  if (!owner || !input.due) return { finding, item: undefined, owner: undefined };

  const itemRef = await nextRef(ctx.db, 'POAM');
  const [item] = await ctx.db.insert(poamItems).values({
    ref: itemRef, weakness: `${capitalised(label)} against ${input.clause} (${ref}): ${input.description}`,
    source: 'audit_finding', sourceRef: ref, ownerId: owner.id, dueOn: input.due, status: 'open', createdAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'open', entity: 'poam_item', entityRef: itemRef, after: item });

  // Someone who makes themselves the owner already knows.
  if (owner.id !== ctx.actor.id) {
    await ctx.notify({
      recipientId: owner.id,
      kind: 'poam_item',
      idempotencyKey: `audit-finding:${ref}:poam:${itemRef}:owner:${owner.id}`,
      reply: {
        ...reply(
          text(`${ctx.actor.name} recorded a ${label} against ${input.clause} (${ref}). You own its corrective action, ${itemRef}, due ${item.dueOn}.`),
          fields([
            { label: 'Finding', value: input.description },
            ...(finding.rootCause ? [{ label: 'Root cause', value: finding.rootCause }] : []),
          ]),
          text('"/isms poam" shows it with your other items.'),
          actions(
            { label: 'Mark completed', command: `poam done ${itemRef}`, style: 'primary' },
            { label: 'Request extension', command: `poam extend ${itemRef}` },
          ),
        ),
        about: itemRef,
      },
    });
  }
  return { finding, item, owner };
}

export const findingAddCommand = defineCommand({
  name: 'finding add',
  summary: 'Record an audit finding; a nonconformity also opens a POA&M item for its owner',
  examples: (today) => [
    `finding add minor_nc 9.2 "No internal audit programme" --root-cause "audit lead left" --owner amara.okafor@northwind.example --due ${addMonths(today, 3)}`,
    'finding add ofi A.5.15 "Access reviews could use the HR leaver feed"',
  ],
  roles: ['isms_lead', 'auditor'],
  schema: findingAddInput,
  args: {
    type: { positional: true, options: FINDING_TYPES.map((t) => ({ value: t, label: capitalised(FINDING_LABELS[t]) })) },
    clause: { positional: true, label: 'Clause or Annex A control', placeholder: 'e.g. 9.2 or A.5.15' },
    description: { positional: 'rest', label: 'What was found' },
    'root-cause': { field: 'textarea', value: 'text' },
    owner: { label: 'Owner of the corrective action (email)', value: 'email' },
    due: { label: 'Corrective action due' },
  },
  form: { title: 'Record an audit finding', submitLabel: 'Record finding' },
  async run(ctx, input) {
    const { finding, item, owner } = await addFinding(ctx, input);
    const label = FINDING_LABELS[finding.type];
    const details: Field[] = [
      { label: 'Reference', value: finding.ref },
      { label: 'Type', value: label },
      { label: 'Clause', value: finding.clause ?? '' },
      { label: 'Description', value: finding.description },
      ...(finding.rootCause ? [{ label: 'Root cause', value: finding.rootCause }] : []),
      { label: 'Status', value: finding.status },
    ];
    if (!item || !owner) {
      return { ...reply(text(`Recorded ${finding.ref}: ${label} against ${finding.clause}.`, 'success'), fields(details)), about: finding.ref };
    }
    const told = owner.id === ctx.actor.id ? '' : ` ${owner.name} has been told.`;
    return {
      ...reply(
        text(`Recorded ${finding.ref}: ${label} against ${finding.clause}. Its corrective action is ${item.ref}, owned by ${owner.name}, due ${item.dueOn}.${told}`, 'success'),
        fields([...details, { label: 'POA&M item', value: `${item.ref} — ${owner.name}, due ${item.dueOn}` }]),
      ),
      about: finding.ref,
    };
  },
});
