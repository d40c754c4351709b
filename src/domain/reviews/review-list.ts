import { z } from 'zod';
import { asc, count, desc, eq, inArray } from 'drizzle-orm';
import { managementReviews, people, reviewDecisions } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { pageNumber, pageWindow } from '../../core/paging.js';
import { attendeeLine } from './management-review.js';

export const reviewsCommand = defineCommand({
  name: 'reviews',
  summary: 'Management reviews, newest first, with attendees, inputs and decisions',
  examples: ['reviews', 'reviews --page 2'],
  roles: ['isms_lead', 'management_body', 'auditor'],
  schema: z.object({ page: pageNumber }),
  async run(ctx, input) {
    const [{ n }] = await ctx.db.select({ n: count() }).from(managementReviews);
    const w = pageWindow(n, input.page, 'reviews', 'The list of management reviews');
    const reviews = await ctx.db.select().from(managementReviews)
      .orderBy(desc(managementReviews.heldOn), desc(managementReviews.id)).offset(w.offset).limit(w.limit);
    const decisions = reviews.length === 0 ? [] : await ctx.db.select({ decision: reviewDecisions, owner: people.name })
      .from(reviewDecisions).leftJoin(people, eq(people.id, reviewDecisions.ownerId))
      .where(inArray(reviewDecisions.reviewId, reviews.map((r) => r.id))).orderBy(asc(reviewDecisions.id));

    const items: ListItem[] = reviews.map((review) => {
      const own = decisions.filter((d) => d.decision.reviewId === review.id);
      return {
        title: `${review.ref} — held ${review.heldOn}`,
        detail: `${own.length} decision${own.length === 1 ? '' : 's'}`,
        fields: [
          { label: 'Attendees', value: review.attendees.map(attendeeLine).join('; ') },
          { label: 'Inputs', value: review.inputs },
          ...own.map(({ decision, owner }, i) => ({
            label: `Decision ${i + 1}`,
            value: `${decision.decision} — owner ${owner ?? 'none'}, due ${decision.dueOn ?? 'not set'}, ${decision.status}`,
          })),
        ],
        buttons: isLead(ctx.actor) ? [{ label: 'Add a decision', command: `review decide ${review.ref}` }] : undefined,
      };
    });
    return reply(
      text(n === 0 ? 'No management reviews have been recorded yet.' : `Management reviews: ${n}.`),
      { type: 'list', title: 'Management reviews', items, empty: 'Nothing recorded.', page: w.page },
    );
  },
});
