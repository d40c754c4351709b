import { z } from 'zod';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { controls, evidenceRequests } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { readersDay } from '../../core/time.js';
import { periodInWords } from './words.js';

export const myEvidenceCommand = defineCommand({
  name: 'evidence',
  readOnly: true,
  aliases: ['evidence list'],
  summary: 'Your open evidence requests, each with a button to submit evidence',
  examples: ['evidence'],
  schema: z.object(seekFields),
  args: seekArgs,
  async run(ctx, position) {
    // Soonest due first: only the page's requests are read, and the rest counted in the database.
    const w = await seekPage(ctx.db, evidenceRequests, evidenceRequests.id, position, 'evidence', 'Your list of open evidence requests',
      and(eq(evidenceRequests.ownerId, ctx.actor.id), eq(evidenceRequests.status, 'open')), { by: [evidenceRequests.dueOn] });
    const shown = w.ids.length === 0 ? [] : await ctx.db.select({ request: evidenceRequests, control: controls })
      .from(evidenceRequests).innerJoin(controls, eq(evidenceRequests.controlId, controls.id))
      .where(inArray(evidenceRequests.id, w.ids))
      .orderBy(asc(evidenceRequests.dueOn), asc(evidenceRequests.id));
    const today = readersDay(ctx.now, ctx.actor.timezone);
    const items: ListItem[] = shown.map(({ request, control }) => ({
      title: `${request.ref} — ${control.code} ${control.title}`,
      detail: `due ${request.dueOn}${request.dueOn < today ? ' (overdue)' : ''}`,
      fields: [{ label: 'Period', value: periodInWords(request.cycle) }],
      buttons: [{ label: 'Submit evidence', command: `evidence submit ${request.ref}`, style: 'primary' }],
    }));
    return reply(
      text(w.count === 0
        ? 'You have no open evidence requests.'
        : `You have ${w.count} open evidence request${w.count === 1 ? '' : 's'}.`),
      ...(w.count === 0 ? [] : [{ type: 'list' as const, title: 'Open evidence requests', items, page: w.page }]),
    );
  },
});
