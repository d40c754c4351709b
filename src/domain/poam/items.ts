import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people, poamClosures, poamExtensions, poamItems, poamMilestones, type Role } from '../../db/schema/index.js';
import { isLead, type Actor } from '../../core/actor.js';
import { decidersRule } from '../../core/duties.js';
import { MAX_CHOICES } from '../../core/args.js';
import { forbidden, notFound } from '../../core/errors.js';
import type { Button, ListItem } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';

export type PoamItem = typeof poamItems.$inferSelect;
export type Milestone = typeof poamMilestones.$inferSelect;
export type Extension = typeof poamExtensions.$inferSelect;
export type Closure = typeof poamClosures.$inferSelect;

/** Items still being worked on (and escalated when late); completed and risk-accepted items are closed. */
export const OPEN_STATUSES = ['open', 'in_progress'] as const;
export const isOpen = (item: PoamItem) => (OPEN_STATUSES as readonly string[]).includes(item.status);
/** What the POA&M lists show: open items, and those said to be done until an ISMS lead verifies them. */
const LISTED_STATUSES = [...OPEN_STATUSES, 'awaiting_verification'] as const;

const STATUS_WORDS: Record<PoamItem['status'], string> = {
  open: 'open',
  in_progress: 'in progress',
  awaiting_verification: 'completed, awaiting verification',
  completed: 'completed',
  risk_accepted: 'risk accepted',
};
export const statusInWords = (status: PoamItem['status']) => STATUS_WORDS[status] ?? status;

/** Loads an item by reference, locked for the rest of the transaction so concurrent changes to it queue up. */
export async function loadItem(db: Db, ref: string): Promise<PoamItem> {
  const [item] = await db.select().from(poamItems).where(eq(poamItems.ref, ref)).for('update');
  if (!item) throw notFound(`${ref} does not exist.`, '"/isms poam" lists your POA&M items.');
  return item;
}

export async function milestonesOf(db: Db, itemId: number): Promise<Milestone[]> {
  return db.select().from(poamMilestones).where(eq(poamMilestones.itemId, itemId)).orderBy(asc(poamMilestones.seq));
}

export async function personName(db: Db, id: number | null): Promise<string> {
  if (id === null) return 'someone';
  const [p] = await db.select({ name: people.name }).from(people).where(eq(people.id, id));
  return p?.name ?? `person #${id}`;
}

/** The owner works their item; the ISMS lead manages the whole POA&M. */
export async function assertOwnerOrLead(db: Db, actor: Actor, item: PoamItem, doing: string): Promise<void> {
  if (item.ownerId === actor.id || isLead(actor)) return;
  throw forbidden(`Only the owner of ${item.ref} (${await personName(db, item.ownerId)}) or the ISMS lead may ${doing}.`,
    '"/isms poam" lists the items you own.');
}

export const overdueMark = (dueOn: string, today: string) => (dueOn < today ? ' (overdue)' : '');

export function milestoneLine(m: Milestone, today: string, timezone: string | null | undefined): string {
  return m.doneAt ? `done on ${readersDay(m.doneAt, timezone)}` : `due ${m.dueOn}${overdueMark(m.dueOn, today)}`;
}

export interface ItemView {
  item: PoamItem;
  milestones: Milestone[];
  pendingExtension?: Extension;
  /** Who may decide the pending extension request (core/duties.ts): its Approve/Reject buttons are theirs. */
  extensionDeciders?: number[];
  /** Which role decides it: the ISMS lead, or the management body when every lead had a part. */
  extensionDecidedBy?: Role;
  /** The claim that the item is done, while it waits for verification, and who made it. */
  awaitingClosure?: Closure;
  closedBy?: string;
  ownerName?: string;
}

/**
 * Open items (and, with `awaitingVerification`, items said to be done) with their milestones, pending
 * extension requests and closure claims, soonest due first.
 */
export async function openItems(db: Db, ownerId?: number, opts: { awaitingVerification?: boolean } = {}): Promise<ItemView[]> {
  const statuses = opts.awaitingVerification ? [...LISTED_STATUSES] : [...OPEN_STATUSES];
  return itemViews(db, and(inArray(poamItems.status, statuses), ownerId === undefined ? undefined : eq(poamItems.ownerId, ownerId)));
}

/**
 * The open items a form offers to choose from (the owner's, or everyone's for an ISMS lead), soonest due
 * first: read only as many as a form can list (MAX_CHOICES) and one more, since a longer list is typed
 * instead, so an organisation with thousands of open items does not read them all to show a text field.
 */
export async function itemChoices(db: Db, ownerId: number | undefined, label: (item: Pick<PoamItem, 'ref' | 'weakness' | 'dueOn'>) => string) {
  const items = await db.select({ ref: poamItems.ref, weakness: poamItems.weakness, dueOn: poamItems.dueOn }).from(poamItems)
    .where(and(inArray(poamItems.status, [...OPEN_STATUSES]), ownerId === undefined ? undefined : eq(poamItems.ownerId, ownerId)))
    .orderBy(asc(poamItems.dueOn), asc(poamItems.id)).limit(MAX_CHOICES + 1);
  return items.map((item) => ({ value: item.ref, label: label(item) }));
}

/** What the POA&M lists show, as a condition a partial index matches (migration 0027): written out, not as parameters. */
export const listedItems = sql`${poamItems.status} in ${sql.raw(`(${LISTED_STATUSES.map((s) => `'${s}'`).join(', ')})`)}`;

/** The items chosen, soonest due first, with their milestones, pending extension requests and closure claims. */
export async function itemViews(db: Db, where: SQL | undefined): Promise<ItemView[]> {
  const items = await db.select({ item: poamItems, ownerName: people.name }).from(poamItems)
    .innerJoin(people, eq(people.id, poamItems.ownerId))
    .where(where)
    .orderBy(asc(poamItems.dueOn), asc(poamItems.id));
  if (items.length === 0) return [];
  const ids = items.map((r) => r.item.id);
  const milestones = await db.select().from(poamMilestones).where(inArray(poamMilestones.itemId, ids)).orderBy(asc(poamMilestones.seq));
  const pending = await db.select().from(poamExtensions)
    .where(and(inArray(poamExtensions.itemId, ids), eq(poamExtensions.status, 'requested')));
  const claims = await db.select({ closure: poamClosures, by: people.name }).from(poamClosures)
    .innerJoin(people, eq(people.id, poamClosures.submittedBy))
    .where(and(inArray(poamClosures.itemId, ids), eq(poamClosures.status, 'awaiting_verification')));
  // The deciding roles' holders are read once for the whole list, not once per request.
  const deciders = pending.length ? await decidersRule(db) : undefined;
  return items.map(({ item, ownerName }) => {
    const claim = claims.find((c) => c.closure.itemId === item.id);
    const pendingExtension = pending.find((e) => e.itemId === item.id);
    const decided = pendingExtension && deciders?.([pendingExtension.requestedBy, item.ownerId]);
    return {
      item,
      ownerName,
      milestones: milestones.filter((m) => m.itemId === item.id),
      pendingExtension,
      extensionDeciders: decided?.people.map((p) => p.id),
      extensionDecidedBy: decided?.role,
      awaitingClosure: claim?.closure,
      closedBy: claim?.by,
    };
  });
}

/** One item as a list entry, with the buttons the viewer can use on it. */
export function itemListEntry(view: ItemView, today: string, viewer: Actor, showOwner: boolean): ListItem {
  if (view.awaitingClosure) return awaitingEntry(view, view.awaitingClosure, viewer, showOwner);
  const { item, milestones, pendingExtension } = view;
  const open = milestones.filter((m) => !m.doneAt);
  // Readers of the whole list (auditors, the management body) get no buttons for work that is not theirs.
  const works = viewer.id === item.ownerId || isLead(viewer);
  const buttons: Button[] = works ? open.map((m) => ({ label: `Milestone ${m.seq} done`, command: `poam done ${item.ref} ${m.seq}` })) : [];
  if (works && open.length === 0) buttons.push({ label: 'Mark item completed', command: `poam done ${item.ref}`, style: 'primary' });
  // Whoever may decide the request by the rule "poam approve" enforces (core/duties.ts) gets its buttons, the
  // management body too when every lead had a part; nobody decides a request they asked for or on their own item.
  if (pendingExtension && view.extensionDeciders?.includes(viewer.id)) {
    buttons.push({ label: 'Approve extension', command: `poam approve ${pendingExtension.ref}`, style: 'primary' });
    buttons.push({ label: 'Reject extension', command: `poam reject ${pendingExtension.ref}`, style: 'danger' });
  } else if (works && !pendingExtension) {
    buttons.push({ label: 'Request extension', command: `poam extend ${item.ref}` });
  }
  return {
    title: `${item.ref} — ${item.weakness}`,
    detail: `due ${item.dueOn}${overdueMark(item.dueOn, today)} · ${statusInWords(item.status)}`,
    fields: [
      ...(showOwner && view.ownerName ? [{ label: 'Owner', value: view.ownerName }] : []),
      ...milestones.map((m) => ({ label: `Milestone ${m.seq}: ${m.description}`, value: milestoneLine(m, today, viewer.timezone) })),
      ...(pendingExtension ? [{ label: 'Extension requested', value: `${pendingExtension.ref}: to ${pendingExtension.requestedDueOn}, awaiting ${view.extensionDecidedBy === 'management_body' ? 'the management body (every ISMS lead had a part in it)' : 'the ISMS lead'}` }] : []),
    ],
    buttons,
  };
}

/** "PCL-0001 by Olga Owner on 2026-03-10: text · link · file (1.2 kB)": a closure claim in one line. */
export function closureInWords(closure: Closure, by: string, timezone: string | null | undefined): string {
  const what = [closure.text, closure.link, closure.fileName ? `file ${closure.fileName} (SHA-256 ${closure.fileSha256?.slice(0, 12)}…)` : undefined]
    .filter(Boolean).join(' · ');
  return `${closure.ref} by ${by} on ${readersDay(closure.submittedAt, timezone)}: ${what}`;
}

/** An item said to be done: its closure evidence, and Verify/Reopen for an ISMS lead who had no part in it. */
function awaitingEntry(view: ItemView, closure: Closure, viewer: Actor, showOwner: boolean): ListItem {
  const { item } = view;
  // Nobody verifies their own item or their own closure (core/duties.ts); the command explains who may.
  const verifies = isLead(viewer) && viewer.id !== item.ownerId && viewer.id !== closure.submittedBy;
  return {
    title: `${item.ref} — ${item.weakness}`,
    detail: `due ${item.dueOn} · ${statusInWords(item.status)}`,
    fields: [
      ...(showOwner && view.ownerName ? [{ label: 'Owner', value: view.ownerName }] : []),
      { label: 'Closure evidence', value: closureInWords(closure, view.closedBy ?? 'someone', viewer.timezone) },
    ],
    buttons: verifies ? [
      { label: 'Verify', command: `poam verify ${item.ref}`, style: 'primary' },
      { label: 'Reopen', command: `poam reopen ${item.ref}`, style: 'danger' },
    ] : [],
  };
}
