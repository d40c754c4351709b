import { z } from 'zod';
import { asc, desc, eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { managementReviews, people, poamItems, reviewDecisions, reviewPacks } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { attendeeLine } from './management-review.js';

const chair = alias(people, 'chair');

export const reviewsCommand = defineCommand({
  name: 'reviews',
  readOnly: true,
  summary: 'Management reviews, newest first, with attendees, inputs and decisions',
  examples: ['reviews', 'reviews --page 2'],
  roles: ['isms_lead', 'management_body', 'auditor'],
  schema: z.object(seekFields),
  args: seekArgs,
  async run(ctx, input) {
    // Newest first: a page is found by seeking (held on, id) downwards, whatever its position.
    const w = await seekPage(ctx.db, managementReviews, managementReviews.id, input, 'reviews', 'The list of management reviews', undefined,
      { by: [managementReviews.heldOn], desc: true });
    const n = w.count;
    const rows = w.ids.length === 0 ? [] : await ctx.db.select({ review: managementReviews, chair: chair.name, pack: reviewPacks.ref }).from(managementReviews)
      .leftJoin(chair, eq(chair.id, managementReviews.chairId)).leftJoin(reviewPacks, eq(reviewPacks.id, managementReviews.packId))
      .where(inArray(managementReviews.id, w.ids)).orderBy(desc(managementReviews.heldOn), desc(managementReviews.id));
    const reviews = rows.map((r) => r.review);
    const decisions = reviews.length === 0 ? [] : await ctx.db.select({ decision: reviewDecisions, owner: people.name, item: poamItems.ref })
      .from(reviewDecisions).leftJoin(people, eq(people.id, reviewDecisions.ownerId)).leftJoin(poamItems, eq(poamItems.id, reviewDecisions.poamItemId))
      .where(inArray(reviewDecisions.reviewId, reviews.map((r) => r.id))).orderBy(asc(reviewDecisions.id));

    const mayDecide = hasRole(ctx.actor, 'isms_lead', 'management_body');
    const items: ListItem[] = rows.map(({ review, chair: chairName, pack }) => {
      const own = decisions.filter((d) => d.decision.reviewId === review.id);
      const open = review.status === 'open';
      return {
        title: `${review.ref} — held ${review.heldOn}`,
        detail: `${own.length} decision${own.length === 1 ? '' : 's'} · ${open ? 'open' : 'closed'}`,
        fields: [
          { label: 'Chair', value: chairName ?? 'not recorded' },
          { label: 'Attendees', value: review.attendees.map(attendeeLine).join('; ') },
          { label: 'Inputs', value: review.inputs },
          ...(pack ? [{ label: 'Review pack', value: pack }] : []),
          ...own.map(({ decision, owner, item }, i) => ({
            label: `Decision ${i + 1}`,
            value: `${decision.decision} — owner ${owner ?? 'none'}, due ${decision.dueOn ?? 'not set'}, ${decision.status}${item ? ` (${item})` : ''}`,
          })),
        ],
        buttons: [
          ...(open && mayDecide ? [{ label: 'Add a decision', command: `review decide ${review.ref}` }] : []),
          ...(open && review.chairId === ctx.actor.id ? [{ label: 'Close the review', command: `review close ${review.ref}` }] : []),
        ],
      };
    });
    return reply(
      text(n === 0 ? 'No management reviews have been recorded yet.' : `Management reviews: ${n}.`),
      { type: 'list', title: 'Management reviews', items, empty: 'Nothing recorded.', page: w.page },
    );
  },
});
