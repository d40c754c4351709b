import { z } from 'zod';
import { and, eq, inArray } from 'drizzle-orm';
import { policyAcknowledgements } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { conflict } from '../../core/errors.js';
import { reply, text, fields, type ListItem } from '../../core/reply.js';
import { pageNumber, pageOf } from '../../core/paging.js';
import { findPolicy, requireCurrentVersion, policiesInForce, policyOptions, policyRef, versionNumber, type Policy, type PolicyVersion } from './lookup.js';
import { isoDay } from '../../core/time.js';

export type Acknowledgement = typeof policyAcknowledgements.$inferSelect;

/** The button that acknowledges exactly the version the person was shown. */
export const ackButton = (policy: Policy, version: PolicyVersion) =>
  ({ label: `Acknowledge version ${version.version}`, command: `ack ${policy.ref} --version ${version.version}`, style: 'primary' as const });

/** Policies whose version in force the person has not acknowledged yet. */
export async function policiesToAcknowledge(ctx: CommandContext) {
  const inForce = await policiesInForce(ctx.db);
  if (inForce.length === 0) return [];
  const acked = new Set((await ctx.db.select({ versionId: policyAcknowledgements.policyVersionId }).from(policyAcknowledgements)
    .where(and(eq(policyAcknowledgements.personId, ctx.actor.id),
      inArray(policyAcknowledgements.policyVersionId, inForce.map((p) => p.version.id))))).map((a) => a.versionId));
  return inForce.filter(({ version }) => !acked.has(version.id));
}

export const policiesCommand = defineCommand({
  name: 'policies',
  aliases: ['policy list'],
  summary: 'Policies waiting for your acknowledgement',
  examples: ['policies'],
  schema: z.object({ page: pageNumber }),
  async run(ctx, { page }) {
    const pending = await policiesToAcknowledge(ctx);
    const shown = pageOf(pending, page, 'policies', 'Your list of policies to acknowledge');
    const items: ListItem[] = shown.items.map(({ policy, version }) => ({
      title: `${policy.ref} ${policy.title}`,
      detail: `version ${version.version}`,
      fields: version.url ? [{ label: 'Read it', value: version.url }] : [],
      buttons: [ackButton(policy, version)],
    }));
    return reply(
      text(pending.length === 0
        ? 'You have acknowledged every policy in force. Thank you.'
        : `${pending.length} polic${pending.length === 1 ? 'y waits' : 'ies wait'} for your acknowledgement: read ${pending.length === 1 ? 'it' : 'each'}, then acknowledge.`),
      { type: 'list', title: 'Policies to acknowledge', items, empty: 'Nothing to acknowledge.', page: shown.page },
    );
  },
});

export const acknowledgeInput = z.object({
  policy: policyRef.describe('The policy you have read, e.g. POL-0001'),
  /** The version the person read (set by the Acknowledge button); refused if a newer one is in force. */
  version: versionNumber.optional().describe('The version you read'),
});

/** Records that the actor acknowledged the version in force, with its content hash; once per version. */
export async function acknowledgePolicy(ctx: CommandContext, input: z.infer<typeof acknowledgeInput>) {
  const policy = await findPolicy(ctx.db, input.policy);
  const version = await requireCurrentVersion(ctx.db, policy);
  if (input.version && input.version.version !== version.version) {
    throw conflict(`${policy.ref} is now at version ${version.version}, not ${input.version.version}. Nothing was recorded.`,
      `Read version ${version.version}${version.url ? ` (${version.url})` : ''}, then acknowledge it with "/isms ack ${policy.ref}".`);
  }
  const [created] = await ctx.db.insert(policyAcknowledgements).values({
    personId: ctx.actor.id, policyVersionId: version.id, contentSha256: version.contentSha256,
    acknowledgedAt: ctx.now, channel: ctx.channel,
  }).onConflictDoNothing().returning();
  if (!created) {
    const [existing] = await ctx.db.select().from(policyAcknowledgements)
      .where(and(eq(policyAcknowledgements.personId, ctx.actor.id), eq(policyAcknowledgements.policyVersionId, version.id)));
    return { policy, version, acknowledgement: existing, already: true };
  }
  await ctx.audit({ action: 'acknowledge', entity: 'policy_acknowledgement', entityRef: `${policy.ref} v${version.version}`, after: created });
  return { policy, version, acknowledgement: created, already: false };
}

export const acknowledgeCommand = defineCommand({
  name: 'ack',
  aliases: ['acknowledge', 'policy ack'],
  summary: 'Acknowledge that you have read the version in force of a policy',
  examples: ['ack POL-0001'],
  schema: acknowledgeInput,
  args: {
    policy: {
      positional: true, label: 'Policy you have read', value: 'policy id', placeholder: 'e.g. POL-0001',
      options: async (ctx) => policyOptions(await policiesToAcknowledge(ctx)),
    },
    version: { hidden: true },
  },
  form: { title: 'Acknowledge a policy', submitLabel: 'Acknowledge' },
  async run(ctx, input) {
    const { policy, version, acknowledgement, already } = await acknowledgePolicy(ctx, input);
    const day = isoDay(acknowledgement.acknowledgedAt);
    if (already) {
      return reply(text(`You already acknowledged ${policy.ref} ${policy.title} version ${version.version} on ${day}. Nothing new was recorded.`));
    }
    return reply(
      text(`Thank you: you acknowledged ${policy.ref} ${policy.title} version ${version.version}.`, 'success'),
      fields([
        { label: 'Policy', value: `${policy.ref} ${policy.title}` },
        { label: 'Version', value: version.version },
        { label: 'Content SHA-256', value: version.contentSha256 },
        { label: 'Acknowledged', value: acknowledgement.acknowledgedAt.toISOString() },
      ]),
    );
  },
});
