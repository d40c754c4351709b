import { z } from 'zod';
import { and, eq, notExists, sql } from 'drizzle-orm';
import { policies, policyAcknowledgements } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { conflict, invalid } from '../../core/errors.js';
import { reply, text, fields, actions, type Block, type Button, type ListItem } from '../../core/reply.js';
import { excerpt } from './approval.js';
import { allSwitch, pageNumber, seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { policyOverview } from './overview.js';
import {
  findPolicy, requireCurrentVersion, policiesInForce, policyChoices, policyRef, versionInForce, versionNumber, type Policy, type PolicyVersion,
} from './lookup.js';
import { readersDay, readersTime } from '../../core/time.js';

export type Acknowledgement = typeof policyAcknowledgements.$inferSelect;

/** The button that acknowledges exactly the version the person was shown. */
export const ackButton = (policy: Policy, version: PolicyVersion) =>
  ({ label: `Acknowledge version ${version.version}`, command: `ack ${policy.ref} --version ${version.version}`, style: 'primary' as const });

/** How much of a policy's text a card shows; the rest is behind its link or "/isms policy text". */
const CARD_TEXT_MAX = 1500;
/** One page of "/isms policy text": well under what chat platforms take in one message. */
const TEXT_PAGE_MAX = 2800;

const readAllOf = (policy: Policy) => `policy text ${policy.ref}`;

/**
 * The card that asks someone to acknowledge a version: the text (its beginning, when long), where the
 * rest is, and the version and content hash the acknowledgement will record.
 */
export function acknowledgementCard(policy: Policy, version: PolicyVersion, intro: string): Block[] {
  const { shown, left } = excerpt(version.content, CARD_TEXT_MAX);
  const rest = version.url ? `Read the full text: ${version.url}`
    : left ? `The text goes on for ${left} more characters: "/isms ${readAllOf(policy)}" shows all of it.` : undefined;
  return [
    text(intro),
    fields([
      { label: 'Policy', value: `${policy.ref} ${policy.title}` },
      { label: 'Version', value: version.version },
      { label: 'Content SHA-256', value: version.contentSha256 },
    ]),
    text(shown),
    ...(rest ? [text(rest)] : []),
    actions(ackButton(policy, version)),
  ];
}

/** The text in pages, each ending at a line or word break where there is one. */
function textPages(content: string): string[] {
  const pages: string[] = [];
  let rest = content;
  while (rest.length > TEXT_PAGE_MAX) {
    const cut = rest.slice(0, TEXT_PAGE_MAX);
    const at = Math.max(cut.lastIndexOf('\n'), cut.lastIndexOf(' '));
    const end = at > TEXT_PAGE_MAX / 2 ? at + 1 : TEXT_PAGE_MAX;
    pages.push(rest.slice(0, end).trimEnd());
    rest = rest.slice(end);
  }
  pages.push(rest);
  return pages;
}

export const policyTextCommand = defineCommand({
  name: 'policy text',
  readOnly: true,
  aliases: ['policy show', 'policy read'],
  summary: 'Read the full text of the version in force of a policy, page by page',
  examples: ['policy text POL-0001', 'policy text POL-0001 --page 2'],
  schema: z.object({ policy: policyRef.describe('The policy to read, e.g. POL-0001'), page: pageNumber }),
  args: {
    policy: { positional: true, value: 'policy id', placeholder: 'e.g. POL-0001', options: (ctx) => policyChoices(ctx.db, undefined, true) },
    page: { asked: false },
  },
  form: { title: 'Read a policy', submitLabel: 'Read' },
  async run(ctx, input) {
    const policy = await findPolicy(ctx.db, input.policy);
    const version = await requireCurrentVersion(ctx.db, policy);
    const pages = textPages(version.content);
    if (input.page > pages.length) {
      throw invalid(`The text of ${policy.ref} has ${pages.length} page${pages.length === 1 ? '' : 's'}, so there is no page ${input.page}.`, `"/isms ${readAllOf(policy)}" shows the first page.`);
    }
    const turn = (to: number, label: string): Button[] =>
      (to >= 1 && to <= pages.length ? [{ label, command: `${readAllOf(policy)} --page ${to}` }] : []);
    return reply(
      text(`${policy.ref} ${policy.title}, version ${version.version}${pages.length > 1 ? ` (page ${input.page} of ${pages.length})` : ''}:`),
      text(pages[input.page - 1]),
      fields([
        { label: 'Content SHA-256', value: version.contentSha256 },
        ...(version.url ? [{ label: 'Link', value: version.url }] : []),
      ]),
      actions(...turn(input.page - 1, 'Previous page'), ...turn(input.page + 1, 'Next page'), ackButton(policy, version)),
    );
  },
});

/** Policies in force whose version in force the person has not acknowledged yet, as a condition on policies. */
const toAcknowledge = (ctx: CommandContext) => and(sql`${versionInForce} is not null`, notExists(ctx.db.select({ one: sql`1` }).from(policyAcknowledgements)
  .where(and(eq(policyAcknowledgements.personId, ctx.actor.id), eq(policyAcknowledgements.policyVersionId, versionInForce)))));

export const policiesCommand = defineCommand({
  name: 'policies',
  readOnly: true,
  aliases: ['policy list'],
  summary: 'Policies waiting for your acknowledgement; --all (ISMS lead, auditor, management body) for every policy with its approval and acknowledgement rate',
  examples: ['policies', 'policies --all', 'policies --all --page 2'],
  schema: z.object({
    all: allSwitch.describe('Every policy: its version in force, management-body approval and acknowledgement rate'),
    ...seekFields,
  }),
  args: { all: { switch: true }, ...seekArgs },
  async run(ctx, { all, ...position }) {
    if (all === 'true') return policyOverview(ctx, position);
    // In reference order, as the whole list was: only the page's policies are read, the rest counted in the database.
    const w = await seekPage(ctx.db, policies, policies.id, position, 'policies', 'Your list of policies to acknowledge',
      toAcknowledge(ctx), { by: [policies.ref] });
    const shown = await policiesInForce(ctx.db, w.ids);
    const items: ListItem[] = shown.map(({ policy, version }) => ({
      title: `${policy.ref} ${policy.title}`,
      detail: `version ${version.version}`,
      fields: version.url ? [{ label: 'Read it', value: version.url }] : [],
      buttons: [ackButton(policy, version)],
    }));
    return reply(
      text(w.count === 0
        ? 'You have acknowledged every policy in force. Thank you.'
        : `${w.count} polic${w.count === 1 ? 'y waits' : 'ies wait'} for your acknowledgement: read ${w.count === 1 ? 'it' : 'each'}, then acknowledge.`),
      { type: 'list', title: 'Policies to acknowledge', items, empty: 'Nothing to acknowledge.', page: w.page },
    );
  },
});

export const acknowledgeInput = z.object({
  policy: policyRef.describe('The policy you have read, e.g. POL-0001'),
  /** The version the person read (set by the Acknowledge button); refused if a newer one is in force. */
  version: versionNumber.optional().describe('The version you read, e.g. 1.0 (the Acknowledge button gives it); refused if a newer one is in force'),
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
      options: (ctx) => policyChoices(ctx.db, toAcknowledge(ctx), true),
    },
    version: { asked: false },
  },
  form: { title: 'Acknowledge a policy', submitLabel: 'Acknowledge' },
  async run(ctx, input) {
    const { policy, version, acknowledgement, already } = await acknowledgePolicy(ctx, input);
    const day = readersDay(acknowledgement.acknowledgedAt, ctx.actor.timezone);
    if (already) {
      return reply(text(`You already acknowledged ${policy.ref} ${policy.title} version ${version.version} on ${day}. Nothing new was recorded.`));
    }
    return reply(
      text(`Thank you: you acknowledged ${policy.ref} ${policy.title} version ${version.version}.`, 'success'),
      fields([
        { label: 'Policy', value: `${policy.ref} ${policy.title}` },
        { label: 'Version', value: version.version },
        { label: 'Content SHA-256', value: version.contentSha256 },
        { label: 'Acknowledged', value: readersTime(acknowledgement.acknowledgedAt, ctx.actor.timezone) },
        { label: 'Text', value: version.url ?? `"/isms ${readAllOf(policy)}"` },
      ]),
    );
  },
});
