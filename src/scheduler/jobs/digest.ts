import { and, asc, count, eq, gte, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import {
  controls, evidenceItems, evidenceRequests, people, poamExtensions, poamItems, poamMilestones, policyAcknowledgements, scopeChanges, suppliers, trainingAttestations, trainingStanding, POAM_STATUSES,
} from '../../db/schema/index.js';
import { enqueue } from '../../core/outbox.js';
import { actions, fields, reply, text, type Block, type ListItem, type Reply } from '../../core/reply.js';
import { rows } from '../../db/migrate.js';
import { deliveryTime } from '../batch.js';
import { LADDER_TOP } from '../settings.js';
import { isoWeek } from '../../core/time.js';
import { dueText } from './ladder.js';
import { describeUnreachable, unreachableList } from '../../core/reach.js';
import { JobRun, type Job } from './run.js';
import { periodInWords } from '../../domain/evidence/words.js';
import { KIND_LABELS } from '../../domain/triage/labels.js';
import { decidersRule, type DecidersRule } from '../../core/duties.js';
import { ROLE_LABELS, type Person } from '../../core/actor.js';
import type { Db } from '../../db/client.js';

const SHOWN = 10;
const OPEN_POAM: (typeof POAM_STATUSES)[number][] = ['open', 'in_progress'];

function list(title: string, items: ListItem[], total: number): Block {
  const more = total > items.length ? [{ title: `… and ${total - items.length} more` }] : [];
  return { type: 'list', title, items: [...items, ...more] };
}

/** What the ISMS lead reads on Monday: what is overdue and what came in this week (what waits for their triage: triageDigest). */
async function leadDigest(run: JobRun, timezone: string | null): Promise<Block[]> {
  const { db: tx, today } = run;
  const since = new Date(run.now.getTime() - 7 * 24 * 3600_000);
  // Counts and the first rows to show come from SQL: a digest never reads the rows it only counts, and
  // every count comes back from one statement.
  const lateEvidenceWhere = and(eq(evidenceRequests.status, 'open'), lt(evidenceRequests.dueOn, today));
  const latePoamWhere = and(inArray(poamItems.status, OPEN_POAM), lt(poamItems.dueOn, today));
  const counted = {
    lateEvidenceCount: tx.select({ n: count() }).from(evidenceRequests).where(lateEvidenceWhere),
    latePoamCount: tx.select({ n: count() }).from(poamItems).where(latePoamWhere),
    lateMilestones: tx.select({ n: count() }).from(poamMilestones).innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId))
      .where(and(isNull(poamMilestones.doneAt), lt(poamMilestones.dueOn, today), inArray(poamItems.status, OPEN_POAM))),
    lateReviews: tx.select({ n: count() }).from(suppliers).where(lt(suppliers.nextReviewOn, today)),
    // People and courses whose every attestation has expired (training_standing keeps the furthest expiry).
    expired: sql`select count(*) from ${trainingStanding} where furthest_on < ${today}::date`,
    submittedCount: tx.select({ n: count() }).from(evidenceItems).where(gte(evidenceItems.submittedAt, since)),
    declared: tx.select({ n: count() }).from(scopeChanges).where(gte(scopeChanges.declaredAt, since)),
    acks: tx.select({ n: count() }).from(policyAcknowledgements).where(gte(policyAcknowledgements.acknowledgedAt, since)),
    attested: tx.select({ n: count() }).from(trainingAttestations).where(gte(trainingAttestations.attestedAt, since)),
  };
  const [{ lateEvidenceCount, latePoamCount, lateMilestones, lateReviews, expired, submittedCount, declared, acks, attested }] =
    rows<Record<keyof typeof counted, number>>(await tx.execute(sql`select ${sql.join(Object.entries(counted)
      .map(([name, query]) => sql`(${query})::int as ${sql.identifier(name)}`), sql`, `)}`));
  const lateEvidence = await tx.select({ request: evidenceRequests, control: controls, owner: people.name }).from(evidenceRequests)
    .innerJoin(controls, eq(controls.id, evidenceRequests.controlId)).innerJoin(people, eq(people.id, evidenceRequests.ownerId))
    .where(lateEvidenceWhere).orderBy(asc(evidenceRequests.dueOn), asc(evidenceRequests.id)).limit(SHOWN);
  const latePoam = await tx.select({ item: poamItems, owner: people.name }).from(poamItems).innerJoin(people, eq(people.id, poamItems.ownerId))
    .where(latePoamWhere).orderBy(asc(poamItems.dueOn), asc(poamItems.id)).limit(Math.max(0, SHOWN - lateEvidence.length));
  const submitted = await tx.select({ item: evidenceItems, control: controls.code, by: people.name }).from(evidenceItems)
    .innerJoin(controls, eq(controls.id, evidenceItems.controlId)).innerJoin(people, eq(people.id, evidenceItems.submittedBy))
    .where(gte(evidenceItems.submittedAt, since)).orderBy(asc(evidenceItems.id)).limit(SHOWN);

  const overdue: ListItem[] = [
    ...lateEvidence.map(({ request, control, owner }) => ({
      title: `${request.ref} evidence for ${control.code} ${control.title} (${periodInWords(request.cycle)})`, detail: `${owner}, ${dueText(request.dueOn, today)}`,
    })),
    ...latePoam.map(({ item, owner }) => ({ title: `${item.ref} ${item.weakness}`, detail: `${owner}, ${dueText(item.dueOn, today)}` })),
  ];
  const blocks: Block[] = [
    text(`Weekly ISMS digest for ${isoWeek(today)}.`),
    fields([
      { label: 'Evidence requests overdue', value: String(lateEvidenceCount) },
      { label: 'POA&M items overdue', value: String(latePoamCount) },
      { label: 'POA&M milestones overdue', value: String(lateMilestones) },
      { label: 'Supplier reviews overdue', value: String(lateReviews) },
      { label: 'Training expired', value: String(expired) },
    ], 'Overdue'),
  ];
  if (overdue.length) blocks.push(list('Overdue items', overdue.slice(0, SHOWN), lateEvidenceCount + latePoamCount));
  blocks.push(fields([
    { label: 'Evidence submitted', value: String(submittedCount) },
    { label: 'Declarations (scope changes)', value: String(declared) },
    { label: 'Policy acknowledgements', value: String(acks) },
    { label: 'Training attestations', value: String(attested) },
  ], 'Came in this week'));
  if (submitted.length) {
    blocks.push(list('Evidence submitted this week', submitted.slice(0, SHOWN).map(({ item, control, by }) => ({
      title: `${item.ref} for ${control}`, detail: `by ${by}`,
    })), submittedCount));
  }
  const unreachable = await unreachableList(tx);
  if (unreachable.length) {
    blocks.push(text(`${unreachable.length} ${unreachable.length === 1 ? 'person' : 'people'} cannot be reached on any chat platform, so their nudges do not arrive.`, 'warning'));
    blocks.push(list('Cannot be reached', unreachable.slice(0, SHOWN).map((p) => describeUnreachable(p, timezone)), unreachable.length));
  }
  return blocks;
}

const PROPOSED = eq(scopeChanges.status, 'proposed');
const scopeChangesIn = (n: number) => `${n} scope change${n === 1 ? '' : 's'}`;

/**
 * Who may decide the items waiting for triage, by declarer: decidersOf, the rule "triage accept" enforces
 * (core/duties.ts), its roles' holders read once, with how many items each declarer has waiting.
 */

async function triageDeciders(tx: Db, rule: DecidersRule): Promise<{ declaredBy: number; waiting: number; deciders: ReturnType<DecidersRule> }[]> {
  const declarers = await tx.select({ declaredBy: scopeChanges.declaredBy, waiting: count() }).from(scopeChanges).where(PROPOSED).groupBy(scopeChanges.declaredBy);
  return declarers.map((d) => ({ ...d, deciders: rule([d.declaredBy]) }));
}

/**
 * The triage part of a person's digest: only the items they may decide, and those they declared
 * themselves, each with who decides it instead. Nobody is sent work they may not decide.
 */
async function triageDigest(tx: Db, person: Person, deciders: Awaited<ReturnType<typeof triageDeciders>>): Promise<{ blocks: Block[]; decidable: number }> {
  const theirs = deciders.filter((d) => d.deciders.people.some((p) => p.id === person.id));
  const decidable = theirs.reduce((n, d) => n + d.waiting, 0);
  const byBoard = theirs.some((d) => d.deciders.role === 'management_body');
  const blocks: Block[] = [text(decidable === 0 ? 'Nothing waits for your triage.'
    : `${scopeChangesIn(decidable)} wait${decidable === 1 ? 's' : ''} for your triage${byBoard ? ' (the management body decides those every ISMS lead had a part in)' : ''}.`)];
  if (decidable) {
    const shown = await tx.select().from(scopeChanges).where(and(PROPOSED, inArray(scopeChanges.declaredBy, theirs.map((d) => d.declaredBy))))
      .orderBy(asc(scopeChanges.declaredAt), asc(scopeChanges.id)).limit(SHOWN);
    blocks.push(list('Waiting for your triage', shown.map((c) => ({ title: `${c.ref} ${c.subject}`, detail: KIND_LABELS[c.kind] })), decidable));
    blocks.push(actions({ label: 'Open triage', command: 'triage', style: 'primary' }));
  }
  const own = deciders.find((d) => d.declaredBy === person.id);
  if (own) {
    const { role, people: others } = own.deciders;
    const who = others.length ? `${others.map((p) => p.name).join(' or ')} (${ROLE_LABELS[role]}) decides it` : 'nobody else in the register can decide it';
    const mine = await tx.select().from(scopeChanges).where(and(PROPOSED, eq(scopeChanges.declaredBy, person.id)))
      .orderBy(asc(scopeChanges.declaredAt), asc(scopeChanges.id)).limit(SHOWN);
    blocks.push(list('Declared by you, so someone else decides it', mine.map((c) => ({ title: `${c.ref} ${c.subject}`, detail: who })), own.waiting));
  }
  return { blocks, decidable };
}

const REQUESTED = eq(poamExtensions.status, 'requested');

/**
 * Who may decide the extension requests waiting for a decision, by requester and item owner: the rule
 * "poam approve" enforces (core/duties.ts), with how many requests each pair has waiting.
 */
async function extensionDeciders(tx: Db, rule: DecidersRule): Promise<{ by: number; owner: number; waiting: number; deciders: ReturnType<DecidersRule> }[]> {
  const pairs = await tx.select({ by: poamExtensions.requestedBy, owner: poamItems.ownerId, waiting: count() })
    .from(poamExtensions).innerJoin(poamItems, eq(poamItems.id, poamExtensions.itemId))
    .where(REQUESTED).groupBy(poamExtensions.requestedBy, poamItems.ownerId);
  return pairs.map((p) => ({ ...p, deciders: rule([p.by, p.owner]) }));
}

/** The extension requests the person may decide, oldest first; nothing when there are none. */
async function extensionDigest(tx: Db, person: Person, deciders: Awaited<ReturnType<typeof extensionDeciders>>): Promise<Block[]> {
  const theirs = deciders.filter((d) => d.deciders.people.some((p) => p.id === person.id));
  const decidable = theirs.reduce((n, d) => n + d.waiting, 0);
  if (decidable === 0) return [];
  const shown = await tx.select({ extension: poamExtensions, item: poamItems, requester: people.name })
    .from(poamExtensions).innerJoin(poamItems, eq(poamItems.id, poamExtensions.itemId)).innerJoin(people, eq(people.id, poamExtensions.requestedBy))
    .where(and(REQUESTED, or(...theirs.map((d) => and(eq(poamExtensions.requestedBy, d.by), eq(poamItems.ownerId, d.owner))))))
    .orderBy(asc(poamExtensions.requestedAt), asc(poamExtensions.id)).limit(SHOWN);
  const byBoard = theirs.some((d) => d.deciders.role === 'management_body');
  return [
    text(`${decidable} POA&M extension request${decidable === 1 ? ' waits' : 's wait'} for your decision${byBoard ? ' (the management body decides those every ISMS lead had a part in)' : ''}.`),
    list('Extension requests waiting for your decision', shown.map(({ extension, item, requester }) => ({
      title: `${extension.ref} ${item.ref} ${item.weakness}`,
      detail: `${requester} asks to move the due date from ${extension.previousDueOn} to ${extension.requestedDueOn}`,
    })), decidable),
    actions({ label: 'Open POA&M items', command: 'poam --all', style: 'primary' }),
  ];
}

/** What reaches the management body: items that stayed overdue through every rung of the ladder. */
async function boardDigest(run: JobRun): Promise<{ blocks: Block[]; escalated: number }> {
  const { db: tx, today } = run;
  const evidenceWhere = and(eq(evidenceRequests.status, 'open'), gte(evidenceRequests.escalationLevel, LADDER_TOP));
  const poamWhere = and(inArray(poamItems.status, OPEN_POAM), gte(poamItems.escalationLevel, LADDER_TOP));
  const [{ evidenceCount, poamCount }] = rows<{ evidenceCount: number; poamCount: number }>(await tx.execute(sql`select
    (${tx.select({ n: count() }).from(evidenceRequests).where(evidenceWhere)})::int as "evidenceCount",
    (${tx.select({ n: count() }).from(poamItems).where(poamWhere)})::int as "poamCount"`));
  const evidence = await tx.select({ request: evidenceRequests, control: controls, owner: people.name }).from(evidenceRequests)
    .innerJoin(controls, eq(controls.id, evidenceRequests.controlId)).innerJoin(people, eq(people.id, evidenceRequests.ownerId))
    .where(evidenceWhere).orderBy(asc(evidenceRequests.dueOn), asc(evidenceRequests.id)).limit(SHOWN);
  const poam = await tx.select({ item: poamItems, owner: people.name }).from(poamItems).innerJoin(people, eq(people.id, poamItems.ownerId))
    .where(poamWhere).orderBy(asc(poamItems.dueOn), asc(poamItems.id)).limit(Math.max(0, SHOWN - evidence.length));
  const total = evidenceCount + poamCount;
  const items: ListItem[] = [
    ...evidence.map(({ request, control, owner }) => ({
      title: `${request.ref} evidence for ${control.code} ${control.title} (${periodInWords(request.cycle)})`, detail: `${owner}, ${dueText(request.dueOn, today)}`,
    })),
    ...poam.map(({ item, owner }) => ({ title: `${item.ref} ${item.weakness}`, detail: `${owner}, ${dueText(item.dueOn, today)}` })),
  ];
  if (total === 0) return { blocks: [], escalated: 0 };
  return { escalated: total, blocks: [
    text(`Escalated to the management body: ${total} item${total === 1 ? ' is' : 's are'} overdue although the owner was reminded twice and their manager was told.`, 'warning'),
    list('Escalated items', items, total),
  ] };
}

/**
 * (7) The weekly digest: the ISMS lead's (overdue, this week, triage and extension requests waiting) and, when anything was
 * escalated that far or waits for their triage, the management body's. One message per person, in their working hours.
 */
export const weeklyDigest: Job = (db, now, settings) => db.transaction(async (tx) => {
  const run = new JobRun(tx, now, settings);
  const leads = await run.leads();
  const board = await tx.select().from(people).where(sql`${people.roles} @> array['management_body']::text[]`).orderBy(people.id);
  // Times on each lead's clock: one digest per time zone among the leads.
  const leadBlocks = new Map<string | null, Block[]>();
  for (const p of leads) if (!leadBlocks.has(p.timezone)) leadBlocks.set(p.timezone, await leadDigest(run, p.timezone));
  const { blocks: boardBlocks, escalated } = board.length ? await boardDigest(run) : { blocks: [], escalated: 0 };
  // The deciding roles' holders are read once for the whole digest.
  const rule = await decidersRule(tx);
  const deciders = await triageDeciders(tx, rule);
  const extensions = await extensionDeciders(tx, rule);
  const recipients = new Map<number, { person: typeof people.$inferSelect; blocks: Block[] }>();
  for (const p of leads) {
    recipients.set(p.id, { person: p, blocks: [...leadBlocks.get(p.timezone)!, ...(await triageDigest(tx, p, deciders)).blocks, ...await extensionDigest(tx, p, extensions)] });
  }
  for (const p of board) {
    // A member who is also a lead read their decisions above; a member reads those every lead had a part in.
    const triage = recipients.has(p.id) ? undefined : await triageDigest(tx, p, deciders);
    const extension = recipients.has(p.id) ? [] : await extensionDigest(tx, p, extensions);
    const theirs = [...boardBlocks, ...(triage?.decidable ? triage.blocks : []), ...extension];
    if (theirs.length === 0) continue;
    const entry = recipients.get(p.id) ?? { person: p, blocks: [] };
    entry.blocks.push(...(entry.blocks.length ? [{ type: 'divider' } as Block] : []), ...theirs);
    recipients.set(p.id, entry);
  }
  let messages = 0;
  for (const { person, blocks } of recipients.values()) {
    if (run.isPaused(person)) continue;
    const message: Reply = reply(...blocks);
    if (await enqueue(tx, {
      recipientId: person.id, kind: 'digest', idempotencyKey: `digest:${person.id}:${isoWeek(run.today)}`,
      reply: message, notBefore: deliveryTime(person, now, settings),
    })) messages++;
  }
  return { messages, escalated };
});
