import { sql, type SQL } from 'drizzle-orm';
import type { Button } from '../../core/reply.js';
import type { Db } from '../../db/client.js';
import type { evidenceRequests, poamItems } from '../../db/schema/index.js';
import { rows } from '../../db/migrate.js';
import { isLead, toActor } from '../../core/actor.js';
import { LADDER_TOP } from '../settings.js';
import { addDays, daysBetween } from '../../core/time.js';
import { RUN_BATCH, type JobRun } from './run.js';
import type { Claim, Nudge } from '../batch.js';
import type { AuditInput } from '../../core/audit.js';

/** "due in 3 days (2026-12-31)", "due today", "overdue by 8 days (was due 2026-11-30)". */
export function dueText(dueOn: string, today: string): string {
  // A run asks about the same few due dates thousands of times; the date arithmetic was most of its CPU.
  const key = `${today}|${dueOn}`;
  let text = dueTexts.get(key);
  if (text === undefined) {
    if (dueTexts.size >= MEMO_SIZE) dueTexts.clear();
    dueTexts.set(key, (text = describeDue(dueOn, today)));
  }
  return text;
}

const MEMO_SIZE = 4096;
const dueTexts = new Map<string, string>();

function describeDue(dueOn: string, today: string): string {
  const days = daysBetween(today, dueOn);
  if (days > 1) return `due in ${days} days (${dueOn})`;
  if (days === 1) return `due tomorrow (${dueOn})`;
  if (days === 0) return `due today (${dueOn})`;
  return `overdue by ${-days} day${days === -1 ? '' : 's'} (was due ${dueOn})`;
}

/**
 * Which reminder of a dated item is due: "d14" while 14 days or fewer are left (the smallest
 * threshold reached), then one per `repeatEveryDays` once it is late ("late0", "late1", ...).
 * Undefined while no threshold is reached yet, or once late when it does not repeat.
 */
export function reminderCycle(daysLeft: number, aheadDays: number[], repeatEveryDays?: number): string | undefined {
  if (daysLeft >= 0) {
    const reached = [...aheadDays].filter((d) => d >= 0).sort((a, b) => a - b).find((d) => daysLeft <= d);
    return reached === undefined ? undefined : `d${reached}`;
  }
  if (!repeatEveryDays) return 'late';
  return `late${Math.floor((-daysLeft - 1) / repeatEveryDays)}`;
}

/** The ladder step due for an item at this escalation level, or undefined (not yet, or all taken). */
export function stepDue(level: number, dueOn: string, today: string, ladderDays: readonly number[]): number | undefined {
  if (level >= LADDER_TOP) return undefined;
  return today >= addDays(dueOn, ladderDays[level]) ? level : undefined;
}

/** An item that climbs the escalation ladder (an evidence request, a POA&M item). */
export interface LadderItem {
  kind: 'evidence_request' | 'poam_item';
  id: number;
  ref: string;
  ownerId: number;
  dueOn: string;
  escalationLevel: number;
  /** What it is, for people: "evidence that CTL-AC-01 Access review works (2026-Q4)". */
  what: string;
  /** What the owner can do about it. */
  ownerButton: Button;
  /** What the ISMS lead can do about it (read the register). */
  leadButton: Button;
}

/**
 * Moves each item's escalation_level from its `escalationLevel` to the next if nobody else did;
 * returns the ids that moved.
 */
export type Advance = (tx: Db, items: LadderItem[]) => Promise<Set<number>>;

/** The columns of a due item every ladder reads, named as LadderItem names them. */
export const LADDER_COLUMNS = sql`id, ref, owner_id as "ownerId", due_on::text as "dueOn", escalation_level as "escalationLevel"`;

/** Not moved up its ladder today: a re-run of the day (after a stop between batches, or fired again) moves it no further. */
const notMovedOn = (today: string) => sql`(escalated_on is null or escalated_on < ${today}::date)`;

/**
 * The live items whose next ladder step is due today, with `columns`: level below the top, today at
 * least the due date plus that level's ladder days, and not moved up today already. One range per level,
 * each its own branch, so the partial (escalation_level, due_on) index answers it without reading the
 * open rows, and the rows come from that index's scan rather than from a second lookup by id (which on a
 * heavy day the planner answers by reading the whole table).
 */
export function ladderStepsDue(table: typeof evidenceRequests | typeof poamItems, live: SQL, today: string, ladderDays: readonly number[], columns: SQL): SQL {
  return sql.join(ladderDays.slice(0, LADDER_TOP).map((days, level) =>
    sql`select ${columns} from ${table} where ${live} and escalation_level = ${level}::int and due_on <= ${addDays(today, -days)}::date and ${notMovedOn(today)}`), sql` union all `);
}

/**
 * Moves each item one rung up in one statement, only where its level is still the one it was read at
 * (another replica or command may have moved it), it has not moved today, and `live` still holds;
 * returns the ids that moved.
 */
export async function advanceLevels(tx: Db, table: typeof evidenceRequests | typeof poamItems, items: LadderItem[], live: SQL, today: string): Promise<Set<number>> {
  const moved = new Set<number>();
  for (let i = 0; i < items.length; i += ADVANCE_CHUNK) {
    const part = items.slice(i, i + ADVANCE_CHUNK);
    const result = await tx.execute(sql`
      update ${table} set escalation_level = ${table}.escalation_level + 1, escalated_on = ${today}::date
      from unnest(${intArray(part.map((x) => x.id))}, ${intArray(part.map((x) => x.escalationLevel))}) as v(id, level)
      where ${table}.id = v.id and ${table}.escalation_level = v.level and ${live} and ${notMovedOn(today)}
      returning ${table}.id`);
    for (const r of rows<{ id: number }>(result)) moved.add(r.id);
  }
  return moved;
}

const ADVANCE_CHUNK = 10_000;

/** An int[] as one bind parameter, whatever its length. */
export const intArray = (ids: number[]) => sql`${`{${ids.join(',')}}`}::int[]`;

/**
 * Takes the next due step of each item's ladder, at most one step a day: 0 reminds the owner,
 * 1 reminds them again, 2 tells their manager (or the ISMS leads when they have none), 3 puts
 * the item on the management body's digest. The owner's leave holds the ladder. Each step's key
 * names the due date, so a moved due date (an approved extension resets escalation_level) climbs
 * a fresh ladder instead of finding its steps already taken. A step that tells someone is held to the
 * run's end, where the item moves up, with its audit event, in the transaction that queues all its
 * messages: a run stopped before that leaves it where it was, and an item closed meanwhile stays put
 * and tells nobody. A step that tells nobody moves its items a batch per transaction here.
 */
export async function climbLadders(run: JobRun, items: LadderItem[], advance: Advance): Promise<void> {
  // stepDue, with each rung's latest due date worked out once rather than once per item.
  const lastDueOn = run.settings.ladderDays.slice(0, LADDER_TOP).map((days) => addDays(run.today, -days));
  const due = items.filter((item) => item.escalationLevel < LADDER_TOP && item.dueOn <= lastDueOn[item.escalationLevel]);
  if (due.length === 0) return;
  await run.loadPeople(due.map((item) => item.ownerId));
  const moving: LadderItem[] = [];
  for (const item of due) {
    const owner = await run.person(item.ownerId);
    if (!owner) continue;
    if (run.isPaused(owner)) {
      run.count('held for leave');
      continue;
    }
    moving.push(item);
  }
  if (moving.length === 0) return;
  await run.loadPeople(moving.flatMap((item) => {
    const managerId = (run.known(item.ownerId)?.managerId) ?? null;
    return item.escalationLevel === 2 && managerId !== null ? [managerId] : [];
  }));
  if (moving.some((item) => item.escalationLevel === 2)) await run.leads();
  /** The item each held nudge is about. */
  const about = new Map<string, LadderItem>();
  const climb: Claim = async (tx, nudges, events) => {
    const mine = [...new Map(nudges.map((n) => [about.get(n.key)!.id, about.get(n.key)!])).values()];
    const moved = await advance(tx, mine);
    for (const item of mine.filter((x) => moved.has(x.id))) events.push(climbed(run, item));
    return nudges.filter((n) => moved.has(about.get(n.key)!.id));
  };
  const untold: LadderItem[] = [];
  for (const item of moving) {
    const nudges = await nudgesOf(run, item);
    if (nudges.length === 0) untold.push(item);
    for (const n of nudges) about.set(n.key, item);
    run.hold(nudges, climb);
  }
  for (let i = 0; i < untold.length; i += RUN_BATCH) {
    await run.step(async (tx) => {
      const part = untold.slice(i, i + RUN_BATCH);
      const moved = await advance(tx, part);
      for (const item of part.filter((x) => moved.has(x.id))) await run.audit(climbed(run, item));
    });
  }
}

/** The audit event of an item that moved up a rung. */
function climbed(run: JobRun, item: LadderItem): AuditInput {
  const step = item.escalationLevel;
  run.count(`step ${step}`);
  return {
    action: 'escalate', entity: item.kind, entityRef: item.ref,
    before: { escalationLevel: step }, after: { escalationLevel: step + 1, escalatedOn: run.today },
  };
}

/** Whom an item's next step tells, and what: nobody at step 3 (the item shows on the management body's weekly digest). */
async function nudgesOf(run: JobRun, item: LadderItem): Promise<Nudge[]> {
  const step = item.escalationLevel;
  const owner = (await run.person(item.ownerId))!;
  const dueNote = dueText(item.dueOn, run.today);
  const nudge = { itemRef: item.ref, kind: item.kind, step };
  if (step === 0 || step === 1) {
    return [{
      ...nudge, recipientId: owner.id, key: `${item.kind}:${item.ref}:${owner.id}:${item.dueOn}:step${step}`,
      title: `${step === 0 ? '' : 'Reminder: '}${item.ref} ${item.what}`, detail: dueNote, button: item.ownerButton,
    }];
  }
  if (step !== 2) return [];
  const manager = owner.managerId !== null ? await run.person(owner.managerId) : undefined;
  const told = manager ? [manager] : await run.leads();
  return told.map((person) => ({
    ...nudge, recipientId: person.id, key: `${item.kind}:${item.ref}:${person.id}:${item.dueOn}:step${step}`,
    title: `${item.ref} ${item.what}, owned by ${owner.name}`,
    detail: `${dueNote}; ${owner.name} was reminded twice. You are told as ${manager ? 'their manager' : 'ISMS lead'}.`,
    button: isLead(toActor(person)) ? item.leadButton : undefined,
  }));
}

export const isOnBoardDigest = (level: number) => level >= LADDER_TOP;

