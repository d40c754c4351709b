import { z } from 'zod';
import { and, count, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { defineCommand } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import { poamClosures, poamItems, type Role } from '../../db/schema/index.js';
import { forbidden } from '../../core/errors.js';
import { allSwitch, seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { reply, text } from '../../core/reply.js';
import { itemListEntry, itemViews, listedItems } from './items.js';
import { readersDay } from '../../core/time.js';

const WHOLE_LIST_READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

export const poamListCommand = defineCommand({
  name: 'poam',
  readOnly: true,
  summary: 'Your open POA&M items with their milestones (the ISMS lead, auditors and the management body see all with --all)',
  examples: ['poam', 'poam --all'],
  schema: z.object({
    all: allSwitch.describe("Everyone's open items (ISMS lead, auditors, management body)"),
    ...seekFields,
  }),
  args: { all: { switch: true }, ...seekArgs },
  async run(ctx, input) {
    const all = input.all === 'true';
    if (all && !hasRole(ctx.actor, ...WHOLE_LIST_READERS)) {
      throw forbidden('Only the ISMS lead, auditors and the management body can list everyone\'s POA&M items.', '"/isms poam" lists the items you own.');
    }
    const today = readersDay(ctx.now, ctx.actor.timezone);
    const listed = and(listedItems, all ? undefined : eq(poamItems.ownerId, ctx.actor.id));
    const base = all ? 'poam --all' : 'poam';
    // Soonest due first: a page is found by seeking (due date, id) among the listed items, whatever its position.
    const w = await seekPage(ctx.db, poamItems, poamItems.id, input, base, all ? 'The list of open POA&M items' : 'Your list of POA&M items',
      listed, { by: [poamItems.dueOn] });
    const shown = w.ids.length === 0 ? [] : await itemViews(ctx.db, inArray(poamItems.id, w.ids));
    // Counted over the whole list, not the page: an item said to be done is one with a claim awaiting verification.
    const [counts] = await ctx.db.select({
      n: count(),
      awaiting: count(poamClosures.id),
      overdue: sql<number>`count(*) filter (where ${and(isNull(poamClosures.id), lt(poamItems.dueOn, today))})`.mapWith(Number),
    }).from(poamItems)
      .leftJoin(poamClosures, and(eq(poamClosures.itemId, poamItems.id), eq(poamClosures.status, 'awaiting_verification')))
      .where(listed);
    const { n, awaiting, overdue } = counts;
    const open = n - awaiting;
    const summary = n === 0
      ? (all ? 'There are no open POA&M items.' : 'You own no open POA&M items.')
      : `${all ? 'Open POA&M items' : 'Your open POA&M items'}: ${open}${overdue ? `, ${overdue} overdue` : ''}`
        + `${awaiting ? `; ${awaiting} completed, awaiting verification` : ''}.`;
    return reply(
      text(summary, overdue ? 'warning' : undefined),
      ...(n === 0 ? [] : [{
        type: 'list' as const,
        title: all ? 'POA&M — all open items' : 'Your POA&M items',
        items: shown.map((v) => itemListEntry(v, today, ctx.actor, all)),
        page: w.page,
      }]),
    );
  },
});
