import { z } from 'zod';
import { asc, eq, inArray, count } from 'drizzle-orm';
import { aiTools, people, scopeChanges, suppliers } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text } from '../../core/reply.js';
import { pageNumber, pageWindow } from '../../core/paging.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { KIND_LABELS } from './labels.js';
import { isoDay } from '../../core/time.js';
/** What the ISMS lead needs to decide an item: the register entry's key facts. */
async function subjectFacts(ctx, refs) {
    const facts = new Map();
    if (refs.length === 0)
        return facts;
    for (const tool of await ctx.db.select().from(aiTools).where(inArray(aiTools.ref, refs))) {
        facts.set(tool.ref, [
            ...(tool.vendor ? [{ label: 'Vendor', value: tool.vendor }] : []),
            ...(tool.purpose ? [{ label: 'Purpose', value: tool.purpose }] : []),
            { label: 'Data', value: tool.dataCategories.length ? tool.dataCategories.join(', ') : 'unknown' },
            ...(tool.userCount ? [{ label: 'Users', value: String(tool.userCount) }] : []),
        ]);
    }
    for (const s of await ctx.db.select().from(suppliers).where(inArray(suppliers.ref, refs))) {
        facts.set(s.ref, [
            { label: 'Tier', value: TIER_LABELS[s.criticalityTier] },
            { label: 'Data', value: s.dataAccess },
        ]);
    }
    return facts;
}
/** Declarations and scope changes waiting for the ISMS lead, oldest first, each with its decision buttons. */
export async function waitingForTriage(ctx, pageNo) {
    const [{ n }] = await ctx.db.select({ n: count() }).from(scopeChanges).where(eq(scopeChanges.status, 'proposed'));
    const window = pageWindow(n, pageNo, 'triage', 'The triage list');
    const rows = await ctx.db.select({ change: scopeChanges, declarer: people.name }).from(scopeChanges)
        .innerJoin(people, eq(people.id, scopeChanges.declaredBy))
        .where(eq(scopeChanges.status, 'proposed'))
        .orderBy(asc(scopeChanges.id)).offset(window.offset).limit(window.limit);
    const facts = await subjectFacts(ctx, rows.flatMap((r) => (r.change.subjectRef ? [r.change.subjectRef] : [])));
    const items = rows.map(({ change, declarer }) => ({
        title: `${change.ref} — ${KIND_LABELS[change.kind]}: ${change.subject}`,
        fields: [
            ...(change.subjectRef ? [{ label: 'Register entry', value: change.subjectRef }] : []),
            ...(change.description ? [{ label: 'Description', value: change.description }] : []),
            ...(change.subjectRef ? facts.get(change.subjectRef) ?? [] : []),
        ],
        // Someone else decides what the lead declared: the list says so instead of offering buttons that refuse.
        ...(change.declaredBy === ctx.actor.id ? {
            detail: `declared by you on ${isoDay(change.declaredAt)}; another ISMS lead or the management body decides it`,
        } : {
            detail: `declared by ${declarer} on ${isoDay(change.declaredAt)}`,
            buttons: [
                { label: 'Accept', command: `triage accept ${change.ref}`, style: 'primary' },
                { label: 'Reject', command: `triage reject ${change.ref}`, style: 'danger' },
            ],
        }),
    }));
    return { total: n, items, page: window.page };
}
export const triageListCommand = defineCommand({
    name: 'triage',
    summary: 'Declarations and scope changes waiting for your decision',
    examples: ['triage', 'triage --page 2'],
    roles: ['isms_lead'],
    schema: z.object({ page: pageNumber }),
    async run(ctx, { page }) {
        const list = await waitingForTriage(ctx, page);
        return reply(text(list.total === 0 ? 'Nothing is waiting for triage.' : `${list.total} item${list.total === 1 ? '' : 's'} waiting for triage.`), { type: 'list', title: 'Waiting for triage', items: list.items, empty: 'Nothing is waiting.', page: list.page });
    },
});
//# sourceMappingURL=list.js.map