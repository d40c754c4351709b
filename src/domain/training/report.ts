import { z } from 'zod';
import { sql } from 'drizzle-orm';
import { people, type Role } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { actions, reply, text, type Block, type ListItem } from '../../core/reply.js';
import { pageNumber, pageOf } from '../../core/paging.js';
import { readersDay } from '../../core/time.js';
import { EXPIRY_WARNING_DAYS, MANAGEMENT_BODY_BASIS, everyonesObligations, type PersonObligation, type TrainingState } from './obligations.js';

const READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

/** Most severe first: never trained, lapsed, lapsing soon, fine. */
const SEVERITY: TrainingState[] = ['due', 'expired', 'expiring', 'valid'];

const statusLabel = (state: TrainingState, within: number) =>
  state === 'due' ? 'never attested' : state === 'expiring' ? `expiring within ${within} days` : state;

/** By severity, then the soonest expiry, then person and course. */
function bySeverity(a: PersonObligation, b: PersonObligation): number {
  return SEVERITY.indexOf(a.state) - SEVERITY.indexOf(b.state)
    || (a.latest?.expiresOn ?? '').localeCompare(b.latest?.expiresOn ?? '')
    || a.person.name.localeCompare(b.person.name)
    || a.course.code.localeCompare(b.course.code);
}

function reportItem(o: PersonObligation, within: number): ListItem {
  return {
    title: `${o.person.name} — ${o.course.code} ${o.course.title}`,
    detail: statusLabel(o.state, within),
    fields: [
      { label: 'Email', value: o.person.email },
      { label: 'Completed on', value: o.latest?.completedOn ?? 'never' },
      { label: 'Expires on', value: o.latest?.expiresOn ?? '—' },
    ],
  };
}

export const trainingReportInput = z.object({
  within: z.coerce.number({ invalid_type_error: 'must be a number of days, e.g. 30' }).int('must be a whole number of days')
    .min(1, 'must be 1 or more').max(366, 'must be 366 or fewer').default(EXPIRY_WARNING_DAYS)
    .describe('Attestations expiring within this many days count as expiring'),
  page: pageNumber,
});

export const trainingReportCommand = defineCommand({
  name: 'training report',
  readOnly: true,
  summary: 'Who must attest which training, and where each stands: never, expired, expiring or valid',
  examples: ['training report', 'training report --within 60 --page 2'],
  roles: READERS,
  schema: trainingReportInput,
  args: { page: { asked: false } },
  async run(ctx, input) {
    const within = input.within;
    const all = (await everyonesObligations(ctx.db, readersDay(ctx.now, ctx.actor.timezone), within)).sort(bySeverity);
    const base = within === EXPIRY_WARNING_DAYS ? 'training report' : `training report --within ${within}`;
    const { items, page } = pageOf(all, input.page, base, 'The training report');
    const counts = Object.fromEntries(SEVERITY.map((s) => [s, all.filter((o) => o.state === s).length])) as Record<TrainingState, number>;
    const blocks: Block[] = [
      text(all.length === 0
        ? 'No training course applies to anyone yet.'
        : `Training obligations: ${all.length} — ${counts.due} never attested, ${counts.expired} expired, ${counts.expiring} expiring within ${within} days, ${counts.valid} valid.`,
      all.length && counts.valid === all.length ? 'success' : all.length ? 'warning' : undefined),
    ];
    const boardCourse = all.some((o) => o.course.audienceRole === 'management_body');
    if (!boardCourse) {
      const members = await ctx.db.select({ name: people.name }).from(people).where(sql`'management_body' = any(${people.roles})`).orderBy(people.name);
      if (members.length) {
        blocks.push(text(`No course is set for the management body, whose members must be trained under ${MANAGEMENT_BODY_BASIS}: ${members.map((m) => m.name).join(', ')}.`, 'warning'));
      }
    }
    if (all.length) {
      blocks.push({ type: 'list', title: 'Training attestations, most urgent first', items: items.map((o) => reportItem(o, within)), page });
      blocks.push(actions({ label: 'Export', command: 'export training' }));
    }
    return reply(...blocks);
  },
});
