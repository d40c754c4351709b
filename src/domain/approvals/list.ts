import { z } from 'zod';
import { and, asc, desc, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { managementApprovals, people } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import { allSwitch, seekArgs, seekFields, seekPage, type SeekInput } from '../../core/paging.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import { approvalInWords, approversOf, stateSha256 } from './request.js';
import { approvalSubject } from './subjects.js';

const requester = alias(people, 'requester');
const decider = alias(people, 'decider');

/** Requests waiting for the management body (oldest first), or with --all every request and decision (newest first). */
async function approvalList(ctx: CommandContext, all: boolean, position: SeekInput) {
  const where: SQL | undefined = all ? undefined : and(eq(managementApprovals.status, 'pending'), isNull(managementApprovals.staleAt));
  const window = await seekPage(ctx.db, managementApprovals, managementApprovals.id, position, all ? 'approvals --all' : 'approvals', 'The approvals list',
    where, { by: [], desc: all });
  const n = window.count;
  const rows = window.ids.length === 0 ? [] : await ctx.db.select({ approval: managementApprovals, requester: requester.name, decider: decider.name })
    .from(managementApprovals)
    .innerJoin(requester, eq(requester.id, managementApprovals.requestedBy))
    .leftJoin(decider, eq(decider.id, managementApprovals.decidedBy))
    .where(inArray(managementApprovals.id, window.ids)).orderBy(all ? desc(managementApprovals.id) : asc(managementApprovals.id));
  const items: ListItem[] = [];
  for (const row of rows) {
    const a = row.approval;
    const now = await approvalSubject(a.subjectKind).current(ctx.db, a.subjectRef, ctx.actor.timezone);
    const changed = !now || stateSha256(now.state) !== a.stateSha256;
    const free = now && a.status === 'pending' && hasRole(ctx.actor, 'management_body')
      && (await approversOf(ctx.db, now, a.requestedBy)).some((p) => p.id === ctx.actor.id);
    items.push({
      title: `${a.ref} — ${a.title}`,
      fields: [
        ...(now?.facts ?? []),
        ...(a.status === 'pending' ? now?.alternatives ?? [] : []),
        ...(all ? [{ label: 'Approval', value: approvalInWords({ ...a, decider: row.decider }, ctx.actor.timezone) }] : []),
        ...(changed && !a.staleAt ? [{ label: 'Changed since', value: 'it no longer matches the state asked for; deciding it asks again as it is now' }] : []),
      ],
      detail: `asked by ${row.requester} on ${readersDay(a.requestedAt, ctx.actor.timezone)}`
        + (a.status === 'pending' && hasRole(ctx.actor, 'management_body') && !free ? '; you had a part in it, so another member decides it' : ''),
      ...(free ? { buttons: [
        { label: 'Approve', command: `approve ${a.ref}`, style: 'primary' as const },
        { label: 'Reject', command: `reject ${a.ref}`, style: 'danger' as const },
      ] } : {}),
    });
  }
  return { total: n, items, page: window.page };
}

export const approvalsCommand = defineCommand({
  name: 'approvals',
  readOnly: true,
  summary: 'What waits for the management body\'s approval; --all for every decision',
  examples: ['approvals', 'approvals --all', 'approvals --page 2'],
  roles: ['management_body', 'isms_lead', 'auditor'],
  schema: z.object({ all: allSwitch.describe('Every request and decision, newest first'), ...seekFields }),
  args: { all: { switch: true }, ...seekArgs },
  async run(ctx, { all, ...position }) {
    const list = await approvalList(ctx, all === 'true', position);
    const waiting = all === 'true' ? `${list.total} request${list.total === 1 ? '' : 's'} to the management body.`
      : list.total === 0 ? 'Nothing waits for the management body\'s approval.' : `${list.total} item${list.total === 1 ? '' : 's'} wait${list.total === 1 ? 's' : ''} for the management body's approval.`;
    return reply(
      text(waiting),
      { type: 'list', title: all === 'true' ? 'Management-body approvals' : 'Waiting for approval', items: list.items, empty: 'Nothing here.', page: list.page },
    );
  },
});
