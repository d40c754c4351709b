import { z } from 'zod';
import { defineCommand } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { forbidden, invalid } from '../../core/errors.js';
import { todayIso } from '../../core/validate.js';
import { reply, text } from '../../core/reply.js';
import { itemListEntry, openItems } from './items.js';

const PAGE_SIZE = 10;

export const poamListCommand = defineCommand({
  name: 'poam',
  summary: 'Your open POA&M items with their milestones (the ISMS lead sees all with --all)',
  usage: 'poam [--all] [--page <n>]',
  examples: ['poam', 'poam --all'],
  flags: ['all', 'page'],
  schema: z.object({
    all: z.enum(['true', 'false'], { errorMap: () => ({ message: 'is a switch: write --all on its own' }) }).optional(),
    page: z.coerce.number({ invalid_type_error: 'must be a page number' }).int('must be a page number').min(1, 'must be 1 or more').optional(),
  }),
  async run(ctx, input) {
    const all = input.all === 'true';
    if (all && !isLead(ctx.actor)) {
      throw forbidden('Only the ISMS lead can list everyone\'s POA&M items.', '"/isms poam" lists the items you own.');
    }
    const today = todayIso(ctx.now);
    const views = await openItems(ctx.db, all ? undefined : ctx.actor.id);
    const total = Math.max(1, Math.ceil(views.length / PAGE_SIZE));
    const page = input.page ?? 1;
    if (page > total) throw invalid(`There is no page ${page}; the list has ${total} page${total === 1 ? '' : 's'}.`);
    const shown = views.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    const overdue = views.filter((v) => v.item.dueOn < today).length;
    const base = all ? 'poam --all' : 'poam';
    const summary = views.length === 0
      ? (all ? 'There are no open POA&M items.' : 'You own no open POA&M items.')
      : `${all ? 'Open POA&M items' : 'Your open POA&M items'}: ${views.length}${overdue ? `, ${overdue} overdue` : ''}.`;
    return reply(
      text(summary, overdue ? 'warning' : undefined),
      {
        type: 'list',
        title: all ? 'POA&M — all open items' : 'Your POA&M items',
        items: shown.map((v) => itemListEntry(v, today, ctx.actor, all)),
        empty: 'Nothing open.',
        page: {
          number: page,
          total,
          next: page < total ? `${base} --page ${page + 1}` : undefined,
          previous: page > 1 ? `${base} --page ${page - 1}` : undefined,
        },
      },
    );
  },
});
