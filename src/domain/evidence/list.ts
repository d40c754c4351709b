import { z } from 'zod';
import { and, asc, eq } from 'drizzle-orm';
import { controls, evidenceRequests } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { pageNumber, pageOf } from '../../core/paging.js';
import { readersDay } from '../../core/time.js';
import { periodInWords } from './words.js';

export const myEvidenceCommand = defineCommand({
  name: 'evidence',
  readOnly: true,
  aliases: ['evidence list'],
  summary: 'Your open evidence requests, each with a button to submit evidence',
  examples: ['evidence'],
  schema: z.object({ page: pageNumber }),
  async run(ctx, { page }) {
    const open = await ctx.db.select({ request: evidenceRequests, control: controls })
      .from(evidenceRequests).innerJoin(controls, eq(evidenceRequests.controlId, controls.id))
      .where(and(eq(evidenceRequests.ownerId, ctx.actor.id), eq(evidenceRequests.status, 'open')))
      .orderBy(asc(evidenceRequests.dueOn), asc(evidenceRequests.id));
    const today = readersDay(ctx.now, ctx.actor.timezone);
    const shown = pageOf(open, page, 'evidence', 'Your list of open evidence requests');
    const items: ListItem[] = shown.items.map(({ request, control }) => ({
      title: `${request.ref} — ${control.code} ${control.title}`,
      detail: `due ${request.dueOn}${request.dueOn < today ? ' (overdue)' : ''}`,
      fields: [{ label: 'Period', value: periodInWords(request.cycle) }],
      buttons: [{ label: 'Submit evidence', command: `evidence submit ${request.ref}`, style: 'primary' }],
    }));
    return reply(
      text(open.length === 0
        ? 'You have no open evidence requests.'
        : `You have ${open.length} open evidence request${open.length === 1 ? '' : 's'}.`),
      ...(open.length === 0 ? [] : [{ type: 'list' as const, title: 'Open evidence requests', items, page: shown.page }]),
    );
  },
});
