import { z } from 'zod';
import { and, count, desc, eq, gt } from 'drizzle-orm';
import { ackCampaigns, outbox, people, policies, policyVersions, OUTBOX_STATUSES } from '../../db/schema/index.js';
import { defineCommand, type CommandSpec } from '../../core/router.js';
import { personNamed, personRef } from '../../core/actor.js';
import { invalid } from '../../core/errors.js';
import { isoDate } from '../../core/validate.js';
import { fields, reply, text, type Block, type ListItem } from '../../core/reply.js';
import { campaignProgress } from '../../core/delivery.js';
import { addDays, localDate, readersTime, readersZone, startOfLocalDay } from '../../core/time.js';
import { describeUnreachable, unreachableList } from '../../core/reach.js';

const SHOWN = 10;

/** What the outbox holds: counts, the failed rows with their last error, campaign progress and who is on leave. */
export const nudgesCommand = defineCommand({
  name: 'nudges',
  readOnly: true,
  summary: 'What the bot has queued, sent and failed to send, how far each campaign has got, who cannot be reached and who is on leave',
  examples: ['nudges'],
  roles: ['isms_lead'],
  schema: z.object({}),
  async run(ctx) {
    const byStatus = new Map((await ctx.db.select({ status: outbox.status, n: count() }).from(outbox).groupBy(outbox.status))
      .map((r) => [r.status, r.n]));
    const n = (s: (typeof OUTBOX_STATUSES)[number]) => byStatus.get(s) ?? 0;
    const [{ waiting }] = await ctx.db.select({ waiting: count() }).from(outbox)
      .where(and(eq(outbox.status, 'queued'), gt(outbox.notBefore, ctx.now)));
    const failed = await ctx.db.select({ row: outbox, name: people.name }).from(outbox)
      .innerJoin(people, eq(people.id, outbox.recipientId))
      .where(eq(outbox.status, 'failed')).orderBy(desc(outbox.id)).limit(SHOWN);
    const campaigns = await campaignProgress(ctx.db);
    const names = new Map((await ctx.db.select({ id: ackCampaigns.id, ref: ackCampaigns.ref, policy: policies.ref, title: policies.title, version: policyVersions.version })
      .from(ackCampaigns).innerJoin(policyVersions, eq(policyVersions.id, ackCampaigns.policyVersionId))
      .innerJoin(policies, eq(policies.id, policyVersions.policyId))).map((c) => [c.id, `${c.ref} ${c.policy} ${c.title} ${c.version}`]));
    // Only a repeat that went out can be a second copy; one that then failed left the person at most one.
    const [{ repeats }] = await ctx.db.select({ repeats: count() }).from(outbox).where(and(eq(outbox.possibleRepeat, true), eq(outbox.status, 'sent')));
    // The first few back and how many are away, not everyone on leave.
    const away = gt(people.pausedUntil, ctx.now);
    const onLeave = await ctx.db.select().from(people).where(away).orderBy(people.pausedUntil, people.id).limit(SHOWN);
    const [{ awayCount }] = await ctx.db.select({ awayCount: count() }).from(people).where(away);
    const unreachable = await unreachableList(ctx.db);

    const blocks: Block[] = [
      text(`Outbox: ${n('queued')} queued${waiting ? ` (${waiting} waiting for working hours, leave or a retry)` : ''}, ${n('sending')} being sent, ${n('sent')} sent, ${n('failed')} failed.`,
        n('failed') ? 'warning' : undefined),
      fields(OUTBOX_STATUSES.map((s) => ({ label: s, value: String(n(s)) })), 'Messages'),
    ];
    if (repeats) {
      blocks.push(text(`${repeats} message${repeats === 1 ? ' was' : 's were'} sent again after the bot was interrupted mid-send on a platform that cannot confirm delivery (Teams): those people may have two copies, the second marked as such.`, 'warning'));
    }
    if (campaigns.length) {
      blocks.push({
        type: 'list', title: 'Campaigns',
        items: campaigns.map((c): ListItem => ({
          title: names.get(c.campaignId) ?? `Campaign #${c.campaignId}`,
          detail: `${c.sent} of ${c.total} sent (${Math.floor((c.sent / c.total) * 100)}%)${c.failed ? `, ${c.failed} failed` : ''}`,
        })),
      });
    }
    if (failed.length) {
      blocks.push({
        type: 'list', title: n('failed') > failed.length ? `Failed (the latest ${failed.length} of ${n('failed')})` : 'Failed',
        items: failed.map(({ row, name }): ListItem => ({
          title: `#${row.id} ${row.kind} to ${name}`,
          detail: row.lastError ?? 'no error recorded',
          fields: [{ label: 'Attempts', value: String(row.attempts) }, { label: 'Queued', value: readersTime(row.createdAt, ctx.actor.timezone) }],
        })),
      });
    }
    if (unreachable.length) {
      blocks.push(text(`${unreachable.length} ${unreachable.length === 1 ? 'person' : 'people'} cannot be reached on any chat platform: their nudges wait, and fail after the retry window. See the README, "Reaching everyone".`, 'warning'));
      blocks.push({ type: 'list', title: 'Cannot be reached', items: unreachable.slice(0, SHOWN * 2).map((p) => describeUnreachable(p, ctx.actor.timezone)) });
    }
    if (onLeave.length) {
      blocks.push({
        type: 'list', title: awayCount > onLeave.length ? `On leave (nudges wait): the ${onLeave.length} back soonest of ${awayCount}` : 'On leave (nudges wait)',
        items: onLeave.map((p): ListItem => ({ title: p.name, detail: `until ${localDate(p.pausedUntil!, readersZone(p.timezone))}` })),
      });
    }
    return reply(...blocks);
  },
});

export const pauseInput = z.object({
  person: personRef.describe('Their email address, their name in "quotes" or their @handle'),
  until: isoDate.describe('The day they are back: nudges wait until then; today lifts a pause'),
});

/** Holds nudges to a person until a date (leave); the date itself is their first day back. */
export const pauseCommand = defineCommand({
  name: 'pause',
  summary: 'Hold nudges to someone on leave until the day they are back',
  examples: (today) => [`pause sam.novak@northwind.example ${addDays(today, 14)}`, `pause "Sam Novak" ${addDays(today, 14)}`],
  roles: ['isms_lead'],
  schema: pauseInput,
  args: {
    person: { positional: true, label: 'Who', placeholder: 'email address or name' },
    until: { positional: true, label: 'Back on' },
  },
  form: { title: 'Hold nudges during leave', submitLabel: 'Pause' },
  async run(ctx, input) {
    const person = await personNamed(ctx.db, 'person', input.person);
    const zone = readersZone(person.timezone);
    const today = localDate(ctx.now, zone);
    if (input.until < today) throw invalid(`until: ${input.until} is in the past.`, `Give the day ${person.name} is back, today (${today}) or later; today lifts the pause.`).on('until');
    const pausedUntil = input.until === today ? null : startOfLocalDay(input.until, zone);
    const [updated] = await ctx.db.update(people).set({ pausedUntil }).where(eq(people.id, person.id)).returning();
    await ctx.audit({
      action: pausedUntil ? 'pause' : 'resume', entity: 'person', entityRef: person.email,
      before: { pausedUntil: person.pausedUntil }, after: { pausedUntil: updated.pausedUntil },
    });
    const [{ queued }] = await ctx.db.select({ queued: count() }).from(outbox)
      .where(and(eq(outbox.recipientId, person.id), eq(outbox.status, 'queued')));
    if (!pausedUntil) {
      return reply(text(`${person.name} is back: nudges to them go out again from today.`, 'success'));
    }
    return reply(
      text(`Nudges to ${person.name} wait until ${input.until}, their first day back. Reminders about their items hold until then.`, 'success'),
      ...(queued ? [text(`${queued} message${queued === 1 ? '' : 's'} already queued for them will arrive on ${input.until}.`)] : []),
    );
  },
});

export const nudgeCommands: CommandSpec[] = [nudgesCommand, pauseCommand];
