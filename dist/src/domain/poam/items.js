import { and, asc, eq, inArray } from 'drizzle-orm';
import { people, poamExtensions, poamItems, poamMilestones } from '../../db/schema/index.js';
import { isLead } from '../../core/actor.js';
import { forbidden, notFound } from '../../core/errors.js';
import { isoDay } from '../../core/time.js';
/** Items still being worked on; completed and risk-accepted items are closed. */
export const OPEN_STATUSES = ['open', 'in_progress'];
export const isOpen = (item) => OPEN_STATUSES.includes(item.status);
/** Loads an item by reference, locked for the rest of the transaction so concurrent changes to it queue up. */
export async function loadItem(db, ref) {
    const [item] = await db.select().from(poamItems).where(eq(poamItems.ref, ref)).for('update');
    if (!item)
        throw notFound(`${ref} does not exist.`, '"/isms poam" lists your POA&M items.');
    return item;
}
export async function milestonesOf(db, itemId) {
    return db.select().from(poamMilestones).where(eq(poamMilestones.itemId, itemId)).orderBy(asc(poamMilestones.seq));
}
export async function personName(db, id) {
    if (id === null)
        return 'someone';
    const [p] = await db.select({ name: people.name }).from(people).where(eq(people.id, id));
    return p?.name ?? `person #${id}`;
}
/** The owner works their item; the ISMS lead manages the whole POA&M. */
export async function assertOwnerOrLead(db, actor, item, doing) {
    if (item.ownerId === actor.id || isLead(actor))
        return;
    throw forbidden(`Only the owner of ${item.ref} (${await personName(db, item.ownerId)}) or the ISMS lead may ${doing}.`, '"/isms poam" lists the items you own.');
}
export const overdueMark = (dueOn, today) => (dueOn < today ? ' (overdue)' : '');
export function milestoneLine(m, today) {
    return m.doneAt ? `done on ${isoDay(m.doneAt)}` : `due ${m.dueOn}${overdueMark(m.dueOn, today)}`;
}
/** Open items with their milestones and pending extension requests, soonest due first. */
export async function openItems(db, ownerId) {
    const items = await db.select({ item: poamItems, ownerName: people.name }).from(poamItems)
        .innerJoin(people, eq(people.id, poamItems.ownerId))
        .where(and(inArray(poamItems.status, [...OPEN_STATUSES]), ownerId === undefined ? undefined : eq(poamItems.ownerId, ownerId)))
        .orderBy(asc(poamItems.dueOn), asc(poamItems.id));
    if (items.length === 0)
        return [];
    const ids = items.map((r) => r.item.id);
    const milestones = await db.select().from(poamMilestones).where(inArray(poamMilestones.itemId, ids)).orderBy(asc(poamMilestones.seq));
    const pending = await db.select().from(poamExtensions)
        .where(and(inArray(poamExtensions.itemId, ids), eq(poamExtensions.status, 'requested')));
    return items.map(({ item, ownerName }) => ({
        item,
        ownerName,
        milestones: milestones.filter((m) => m.itemId === item.id),
        pendingExtension: pending.find((e) => e.itemId === item.id),
    }));
}
/** One item as a list entry, with the buttons the viewer can use on it. */
export function itemListEntry(view, today, viewer, showOwner) {
    const { item, milestones, pendingExtension } = view;
    const open = milestones.filter((m) => !m.doneAt);
    const buttons = open.map((m) => ({ label: `Milestone ${m.seq} done`, command: `poam done ${item.ref} ${m.seq}` }));
    if (open.length === 0)
        buttons.push({ label: 'Mark item completed', command: `poam done ${item.ref}`, style: 'primary' });
    // Nobody decides a request they asked for or that extends their own item (core/duties.ts).
    const decides = isLead(viewer) && viewer.id !== pendingExtension?.requestedBy && viewer.id !== item.ownerId;
    if (pendingExtension && decides) {
        buttons.push({ label: 'Approve extension', command: `poam approve ${pendingExtension.ref}`, style: 'primary' });
        buttons.push({ label: 'Reject extension', command: `poam reject ${pendingExtension.ref}`, style: 'danger' });
    }
    else if (!pendingExtension) {
        buttons.push({ label: 'Request extension', command: `poam extend ${item.ref}` });
    }
    return {
        title: `${item.ref} — ${item.weakness}`,
        detail: `due ${item.dueOn}${overdueMark(item.dueOn, today)} · ${item.status.replace('_', ' ')}`,
        fields: [
            ...(showOwner && view.ownerName ? [{ label: 'Owner', value: view.ownerName }] : []),
            ...milestones.map((m) => ({ label: `Milestone ${m.seq}: ${m.description}`, value: milestoneLine(m, today) })),
            ...(pendingExtension ? [{ label: 'Extension requested', value: `${pendingExtension.ref}: to ${pendingExtension.requestedDueOn}, awaiting the ISMS lead` }] : []),
        ],
        // Readers of the whole list (auditors, the management body) get no buttons for work that is not theirs.
        buttons: viewer.id === item.ownerId || isLead(viewer) ? buttons : [],
    };
}
//# sourceMappingURL=items.js.map