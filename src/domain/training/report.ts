import { z } from 'zod';
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people, trainingAttestations, trainingCourses, trainingStanding, type Role } from '../../db/schema/index.js';
import { rows } from '../../db/migrate.js';
import { defineCommand } from '../../core/router.js';
import { nameKey } from '../../core/actor.js';
import { invalid } from '../../core/errors.js';
import { actions, reply, text, type Block, type ListItem, type Page } from '../../core/reply.js';
import { NEAR_PAGES, PAGE_SIZE, pageNumber, pageWindow } from '../../core/paging.js';
import { addDays, readersDay } from '../../core/time.js';
import { EXPIRY_WARNING_DAYS, MANAGEMENT_BODY_BASIS, type TrainingState } from './obligations.js';

const READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

/** Most severe first: never trained, lapsed, lapsing soon, fine; a row's `rank` is its place here. */
const SEVERITY: TrainingState[] = ['due', 'expired', 'expiring', 'valid'];

const statusLabel = (state: TrainingState, within: number) =>
  state === 'due' ? 'never attested' : state === 'expiring' ? `expiring within ${within} days` : state;

/** One person's obligation to attest one course: a row of the report. */
interface ReportRow {
  personId: number; courseId: number; name: string; email: string; code: string; title: string;
  completedOn: string | null; expiresOn: string | null; rank: number;
}

/** Where a row stands in the report's order (its sort key), as a Next/Previous button's position names it. */
interface RowKey { rank: number; expiry: string; nameKey: string; personId: number; codeKey: string; courseId: number }

/** "120:3": the person and the course of the row a page button's page starts after or ends before. */
const rowCursor = z.string().trim()
  .regex(/^\d{1,10}:\d{1,10}$/, 'must be the position a Next or Previous button carries, e.g. 120:3')
  .transform((v) => v.split(':').map(Number) as [number, number])
  // Beyond a 32-bit id the database would refuse the comparison: said here, not as an internal error.
  .refine((ids) => ids.every((id) => id >= 1 && id <= 2_147_483_647), 'is not a position any Next or Previous button carries')
  .optional();

/** An obligation's severity (SEVERITY's order) by the expiry of its latest attestation, `s.expires_on`. */
const rank = (today: string, within: number) => sql`case when s.expires_on is null then 0 when s.expires_on < ${today}::date then 1
  when s.expires_on <= ${addDays(today, within)}::date then 2 else 3 end`;

/**
 * The obligations (training_standing: each course that applies to a person, as courseAppliesTo says, kept by
 * triggers with the expiry of their latest attestation) that `where` picks out of those of `s`, with their
 * severity (`rank`, SEVERITY's order) today, as a subquery. Sorted by severity, the soonest expiry, the name,
 * then the course code: names and codes compared by their characters as the two databases both compare them
 * (ASCII letters case-blind, "C" collation), so a page holds the same rows on PGlite as on PostgreSQL,
 * whatever the server's locale; the ids break ties between equal names. Severity follows the expiry (never
 * attested first, then by day), so the rows of one expiry day are next to each other in that order.
 */
function obligationRows(today: string, within: number, where: SQL): SQL {
  return sql`(select s.person_id, s.course_id, p.name, p.email, c.code, c.title, s.expires_on::text as expires_on, ${rank(today, within)} as rank,
      coalesce(s.expires_on, date '0001-01-01') as expiry, lower(p.name collate "C") as name_key, c.code collate "C" as code_key
    from ${trainingCourses} c join ${trainingStanding} s on s.course_id = c.id and s.applies and ${where}
    join ${people} p on p.id = s.person_id) o`;
}

/** The obligations of one expiry day (null: never attested), or of the days from `from` to `to`. */
function expiringOn(from: string | null, to = from): SQL {
  if (from === null) return to === null ? sql`s.expires_on is null` : sql`(s.expires_on is null or s.expires_on <= ${to}::date)`;
  return sql`s.expires_on between ${from}::date and ${to}::date`;
}

const ORDER_KEYS = sql`(o.rank, o.expiry, o.name_key collate "C", o.person_id, o.code_key collate "C", o.course_id)`;
const keyValues = (k: RowKey) => sql`(${k.rank}::int, ${k.expiry}::date, ${k.nameKey}::text collate "C", ${k.personId}::int, ${k.codeKey}::text collate "C", ${k.courseId}::int)`;
const orderBy = (way: 'asc' | 'desc') => sql.raw(['o.rank', 'o.expiry', 'o.name_key collate "C"', 'o.person_id', 'o.code_key collate "C"', 'o.course_id']
  .map((k) => `${k} ${way}`).join(', '));

const SHOWN = sql`o.person_id as "personId", o.course_id as "courseId", o.name, o.email, o.code, o.title, o.expires_on as "expiresOn", o.rank`;

/** How many obligations expire on one day (null: never attested), the management body's among them; `before`: how many come earlier. */
interface ExpiryDay { expiresOn: string | null; rank: number; n: number; board: number; before: number }

/**
 * The obligations counted by expiry day, never attested first, from training_standing's index alone: the
 * report's figures, and where in the list each day's rows lie, so that a page reads only the days it spans.
 */
async function expiryDays(db: Db, today: string, within: number): Promise<ExpiryDay[]> {
  const days = rows<Omit<ExpiryDay, 'before'>>(await db.execute(sql`
    select s.expires_on::text as "expiresOn", min(${rank(today, within)}) as rank, count(*)::int as n, (count(*) filter (where c.audience_role = 'management_body'))::int as board
    from ${trainingCourses} c join ${trainingStanding} s on s.course_id = c.id and s.applies
    group by s.expires_on order by s.expires_on nulls first`));
  let before = 0;
  return days.map((d) => { const day = { ...d, before }; before += d.n; return day; });
}

/**
 * The rows from `start` to `end` (exclusive) of the report's order: those of the expiry days they fall on,
 * sorted, by a bounded sort from the nearer end of those days; each with the day its latest attestation was
 * completed, read for these rows only.
 */
async function rowsBetween(db: Db, today: string, within: number, days: ExpiryDay[], start: number, end: number): Promise<ReportRow[]> {
  if (end <= start) return [];
  const first = days.find((d) => d.before + d.n > start)!;
  const last = days.filter((d) => d.before < end).pop()!;
  const skip = start - first.before;
  const after = last.before + last.n - end;
  const from = obligationRows(today, within, expiringOn(first.expiresOn, last.expiresOn));
  const page = skip <= after
    ? sql`select ${SHOWN} from ${from} order by ${orderBy('asc')} offset ${skip} limit ${end - start}`
    : sql`select ${SHOWN} from ${from} order by ${orderBy('desc')} offset ${after} limit ${end - start}`;
  const shown = rows<ReportRow>(await db.execute(sql`select r.*, (select a.completed_on::text from ${trainingAttestations} a
      where a.person_id = r."personId" and a.course_id = r."courseId" order by a.completed_on desc, a.id desc limit 1) as "completedOn"
    from (${page}) r`));
  return skip <= after ? shown : shown.reverse();
}

interface Position { page?: number; after?: [number, number]; before?: [number, number] }

/**
 * One page of the report and its figures, read in SQL: the figures from the obligations counted by expiry
 * day, the page's rows from the days it spans; a Next/Previous button's page found by where its row stands
 * (pages far from both ends), never the whole list sorted or read into the process.
 */
async function reportPage(db: Db, today: string, within: number, position: Position, command: string) {
  const what = 'The training report';
  const firstPage = `"/isms ${command}" shows the first page.`;
  if (position.after && position.before) throw invalid('A page button carries either --after or --before, not both.', firstPage);
  const cursor = position.after ?? position.before;
  const days = await expiryDays(db, today, within);
  const byRank = [0, 0, 0, 0];
  for (const d of days) byRank[d.rank] += d.n;
  const [due, expired, expiring, valid] = byRank;
  const figures = { n: due + expired + expiring + valid, due, expired, expiring, valid, board: days.reduce((n, d) => n + d.board, 0) };
  const total = Math.max(1, Math.ceil(figures.n / PAGE_SIZE));
  let page: Page;
  let shown: ReportRow[];
  if (cursor) {
    const stale = () => invalid(`That page button no longer matches ${what.toLowerCase()}: obligations were added, attested or removed before its position since it was shown, or the button was altered.`,
      position.page !== undefined && position.page <= total ? `"/isms ${command} --page ${position.page}" shows page ${position.page} as it is now.` : firstPage);
    const [at] = rows<RowKey & { expiresOn: string | null }>(await db.execute(sql`select o.rank, o.expiry::text as expiry, o.name_key as "nameKey",
      o.person_id as "personId", o.code_key as "codeKey", o.course_id as "courseId", o.expires_on as "expiresOn"
      from ${obligationRows(today, within, sql`s.person_id = ${cursor[0]} and s.course_id = ${cursor[1]}`)}`));
    if (!at) throw stale();
    // Before the page a Next button starts: its row too; before the page a Previous button ends: the rows before its row.
    const [{ n: sameDay }] = rows<{ n: number }>(await db.execute(sql`select count(*)::int as n
      from ${obligationRows(today, within, expiringOn(at.expiresOn))} where ${ORDER_KEYS} ${sql.raw(position.after ? '<=' : '<')} ${keyValues(at)}`));
    const earlier = (days.find((d) => d.expiresOn === at.expiresOn)?.before ?? 0) + sameDay;
    const pageNo = position.after ? earlier / PAGE_SIZE + 1 : earlier / PAGE_SIZE;
    if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > total || (position.page !== undefined && pageNo !== position.page)) throw stale();
    shown = await rowsBetween(db, today, within, days, (pageNo - 1) * PAGE_SIZE, Math.min(pageNo * PAGE_SIZE, figures.n));
    page = { number: pageNo, total, next: pageNo < total ? `${command} --page ${pageNo + 1}` : undefined, previous: pageNo > 1 ? `${command} --page ${pageNo - 1}` : undefined };
  } else {
    const window = pageWindow(figures.n, position.page ?? 1, command, what);
    page = window.page;
    shown = await rowsBetween(db, today, within, days, window.offset, Math.min(window.offset + PAGE_SIZE, figures.n));
  }
  // A neighbour within NEAR_PAGES of either end is found by its number as cheaply; one further away from the row its button names.
  const far = (p: number) => Math.min(p - 1, total - p) >= NEAR_PAGES;
  const rowId = (r: ReportRow) => `${r.personId}:${r.courseId}`;
  if (page.next && far(page.number + 1) && shown.length) page.next += ` --after ${rowId(shown[shown.length - 1])}`;
  if (page.previous && far(page.number - 1) && shown.length) page.previous += ` --before ${rowId(shown[0])}`;
  return { figures, shown, page };
}

function reportItem(o: ReportRow, within: number): ListItem {
  return {
    title: `${o.name} — ${o.code} ${o.title}`,
    detail: statusLabel(SEVERITY[o.rank], within),
    fields: [
      { label: 'Email', value: o.email },
      { label: 'Completed on', value: o.completedOn ?? 'never' },
      { label: 'Expires on', value: o.expiresOn ?? '—' },
    ],
  };
}

export const trainingReportInput = z.object({
  within: z.coerce.number({ invalid_type_error: 'must be a number of days, e.g. 30' }).int('must be a whole number of days')
    .min(1, 'must be 1 or more').max(366, 'must be 366 or fewer').default(EXPIRY_WARNING_DAYS)
    .describe('Attestations expiring within this many days count as expiring'),
  page: pageNumber.optional(),
  after: rowCursor.describe('The position a Next page button carries'),
  before: rowCursor.describe('The position a Previous page button carries'),
});

export const trainingReportCommand = defineCommand({
  name: 'training report',
  readOnly: true,
  summary: 'Who must attest which training, and where each stands: never, expired, expiring or valid',
  examples: ['training report', 'training report --within 60 --page 2'],
  roles: READERS,
  schema: trainingReportInput,
  args: { page: { asked: false }, after: { asked: false }, before: { asked: false } },
  async run(ctx, input) {
    const within = input.within;
    const base = within === EXPIRY_WARNING_DAYS ? 'training report' : `training report --within ${within}`;
    const { figures, shown, page } = await reportPage(ctx.db, readersDay(ctx.now, ctx.actor.timezone), within, input, base);
    const n = figures.n;
    const blocks: Block[] = [
      text(n === 0
        ? 'No training course applies to anyone yet.'
        : `Training obligations: ${n} — ${figures.due} never attested, ${figures.expired} expired, ${figures.expiring} expiring within ${within} days, ${figures.valid} valid.`,
      n && figures.valid === n ? 'success' : n ? 'warning' : undefined),
    ];
    if (!figures.board) {
      const members = await ctx.db.select({ name: people.name }).from(people).where(sql`'management_body' = any(${people.roles})`)
        .orderBy(nameKey, people.id);
      if (members.length) {
        blocks.push(text(`No course is set for the management body, whose members must be trained under ${MANAGEMENT_BODY_BASIS}: ${members.map((m) => m.name).join(', ')}.`, 'warning'));
      }
    }
    if (n) {
      blocks.push({ type: 'list', title: 'Training attestations, most urgent first', items: shown.map((o) => reportItem(o, within)), page });
      blocks.push(actions({ label: 'Export', command: 'export training' }));
    }
    return reply(...blocks);
  },
});
