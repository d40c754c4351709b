import { z } from 'zod';
import { asc, eq, inArray } from 'drizzle-orm';
import { auditFindings, people } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { allSwitch, seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { capitalised, FINDING_LABELS, isNonconformity, poamItemsFor } from './shared.js';
import { readersDay } from '../../core/time.js';
import { statusInWords } from '../poam/items.js';

export const findingsInput = z.object({
  all: allSwitch.describe('Closed findings too'),
  ...seekFields,
});

export const findingsCommand = defineCommand({
  name: 'findings',
  readOnly: true,
  summary: 'Open audit findings with their POA&M items (--all includes closed ones)',
  examples: ['findings', 'findings --all --page 2'],
  roles: ['isms_lead', 'auditor', 'management_body'],
  schema: findingsInput,
  args: { all: { switch: true }, ...seekArgs },
  async run(ctx, input) {
    const all = input.all === 'true';
    const which = all ? undefined : eq(auditFindings.status, 'open');
    const base = all ? 'findings --all' : 'findings';
    const w = await seekPage(ctx.db, auditFindings, auditFindings.id, input, base, all ? 'The list of audit findings' : 'The list of open audit findings', which);
    const n = w.count;
    const rows = w.ids.length === 0 ? [] : await ctx.db.select({ finding: auditFindings, raisedBy: people.name }).from(auditFindings)
      .leftJoin(people, eq(people.id, auditFindings.raisedBy)).where(inArray(auditFindings.id, w.ids)).orderBy(asc(auditFindings.id));
    const items = await poamItemsFor(ctx.db, rows.map((r) => r.finding.ref));

    const entries: ListItem[] = rows.map(({ finding, raisedBy }) => {
      const item = items.get(finding.ref);
      const closable = finding.status === 'open' && (!isNonconformity(finding.type) || !item || item.status === 'completed');
      return {
        title: `${finding.ref} ${capitalised(FINDING_LABELS[finding.type])} — ${finding.clause ?? 'no clause'}`,
        detail: finding.description,
        fields: [
          { label: 'Type', value: FINDING_LABELS[finding.type] },
          { label: 'Clause', value: finding.clause ?? 'none' },
          { label: 'Status', value: finding.status },
          {
            label: 'POA&M item',
            value: item ? `${item.ref} — ${statusInWords(item.status)}, due ${item.dueOn}` : isNonconformity(finding.type) ? 'none' : 'not needed',
          },
          ...(finding.rootCause ? [{ label: 'Root cause', value: finding.rootCause }] : []),
          ...(finding.correctiveAction ? [{ label: 'Corrective action', value: finding.correctiveAction }] : []),
          { label: 'Raised by', value: `${raisedBy ?? 'unknown'} on ${readersDay(finding.createdAt, ctx.actor.timezone)}` },
        ],
        buttons: closable && hasRole(ctx.actor, 'isms_lead', 'auditor') ? [{ label: 'Close', command: `finding close ${finding.ref}` }] : undefined,
      };
    });
    const summary = n === 0
      ? (all ? 'No audit findings have been recorded.' : 'There are no open audit findings.')
      : `${all ? 'Audit findings' : 'Open audit findings'}: ${n}.`;
    return reply(text(summary), {
      type: 'list',
      title: all ? 'Audit findings' : 'Open audit findings',
      items: entries,
      empty: hasRole(ctx.actor, 'isms_lead', 'auditor') ? 'An audit\'s findings are recorded with "/isms finding add".' : 'Nothing to show.',
      page: w.page,
    });
  },
});
