import { z } from 'zod';
import { defineCommand } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import type { Role } from '../../db/schema/index.js';
import { forbidden } from '../../core/errors.js';
import { allSwitch, pageNumber, pageOf } from '../../core/paging.js';
import { reply, text } from '../../core/reply.js';
import { itemListEntry, openItems } from './items.js';
import { readersDay } from '../../core/time.js';

const WHOLE_LIST_READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

export const poamListCommand = defineCommand({
  name: 'poam',
  readOnly: true,
  summary: 'Your open POA&M items with their milestones (the ISMS lead, auditors and the management body see all with --all)',
  examples: ['poam', 'poam --all'],
  schema: z.object({
    all: allSwitch.describe("Everyone's open items (ISMS lead, auditors, management body)"),
    page: pageNumber,
  }),
  args: { all: { switch: true } },
  async run(ctx, input) {
    const all = input.all === 'true';
    if (all && !hasRole(ctx.actor, ...WHOLE_LIST_READERS)) {
      throw forbidden('Only the ISMS lead, auditors and the management body can list everyone\'s POA&M items.', '"/isms poam" lists the items you own.');
    }
    const today = readersDay(ctx.now, ctx.actor.timezone);
    const views = await openItems(ctx.db, all ? undefined : ctx.actor.id, { awaitingVerification: true });
    const base = all ? 'poam --all' : 'poam';
    const { items: shown, page } = pageOf(views, input.page, base, all ? 'The list of open POA&M items' : 'Your list of POA&M items');
    const open = views.filter((v) => !v.awaitingClosure);
    const awaiting = views.length - open.length;
    const overdue = open.filter((v) => v.item.dueOn < today).length;
    const summary = views.length === 0
      ? (all ? 'There are no open POA&M items.' : 'You own no open POA&M items.')
      : `${all ? 'Open POA&M items' : 'Your open POA&M items'}: ${open.length}${overdue ? `, ${overdue} overdue` : ''}`
        + `${awaiting ? `; ${awaiting} completed, awaiting verification` : ''}.`;
    return reply(
      text(summary, overdue ? 'warning' : undefined),
      ...(views.length === 0 ? [] : [{
        type: 'list' as const,
        title: all ? 'POA&M — all open items' : 'Your POA&M items',
        items: shown.map((v) => itemListEntry(v, today, ctx.actor, all)),
        page,
      }]),
    );
  },
});
