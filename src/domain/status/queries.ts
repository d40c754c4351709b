import { and, asc, count, eq, inArray, or, sql } from 'drizzle-orm';
import { people, poamExtensions, poamItems, scopeChanges } from '../../db/schema/index.js';
import type { ScopeChangeKind } from '../triage/labels.js';
import type { Db } from '../../db/client.js';
import { rows } from '../../db/migrate.js';
import { lazyDecidersRule, type DecidersRule } from '../../core/duties.js';

async function select<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  return rows<T>(await db.execute(query));
}

/** Approvals waiting for the management body that someone else asked for: nobody decides on their own request. */
export async function approvalsAwaitingDecisionBy(db: Db, personId: number): Promise<number> {
  const [{ n }] = await select<{ n: number }>(db, sql`
    select count(*)::int as n from management_approvals where status = 'pending' and requested_by <> ${personId}`);
  return n;
}

export interface OpenEvidenceRequest { ref: string; dueOn: string; controlCode: string; controlTitle: string; cycle: string }

export async function openEvidenceRequestsOf(db: Db, personId: number): Promise<OpenEvidenceRequest[]> {
  return select(db, sql`
    select er.ref, er.due_on::text as "dueOn", er.cycle, c.code as "controlCode", c.title as "controlTitle"
    from evidence_requests er join controls c on c.id = er.control_id
    where er.owner_id = ${personId} and er.status = 'open'
    order by er.due_on, er.id`);
}

/** The version in force of each policy: its highest major.minor, as "/isms policies" and "/isms ack" use it. */
const CURRENT_POLICY_VERSIONS = sql`
  select distinct on (v.policy_id) v.id, v.policy_id, v.version, p.ref, p.title
  from policy_versions v join policies p on p.id = v.policy_id
  order by v.policy_id, v.major desc, v.minor desc`;

export interface UnacknowledgedPolicy { ref: string; title: string; version: string }

/** Policies whose version in force this person has not acknowledged (people outside ISMS scope owe none). */
export async function unacknowledgedPoliciesOf(db: Db, personId: number): Promise<UnacknowledgedPolicy[]> {
  return select(db, sql`
    with current_versions as (${CURRENT_POLICY_VERSIONS})
    select cv.ref, cv.title, cv.version from current_versions cv
    where exists (select 1 from people where id = ${personId} and in_scope)
      and not exists (select 1 from policy_acknowledgements a where a.person_id = ${personId} and a.policy_version_id = cv.id)
    order by cv.ref`);
}

export interface ProgrammeFigures {
  evidenceOpen: number;
  evidenceOverdue: number;
  scopeChangesProposed: number;
  poamOpen: number;
  poamOverdue: number;
  extensionsPending: number;
  /** Acknowledgements of current policy versions by people in scope, out of policies × people in scope. */
  policyAcks: number;
  policyAcksExpected: number;
  boardCourses: number;
  boardMembers: number;
  /** Members holding a valid attestation of every management-body course. */
  boardMembersCovered: number;
  /** The approved risk appetite in force (a proposal waiting for the management body is not); null when none is. */
  riskAppetite: number | null;
  risksOpen: number;
  risksOverAppetite: number;
  approvalsPending: number;
}

/**
 * The lead's figures, each read by an index where one serves: the management body's members by the roles
 * index; whether each holds a valid attestation (one expiring today or later: their furthest expiry does) of
 * every board course by where they stand on it (training_standing, by its key, member by member); the
 * acknowledgements owed as the versions in force times the people in scope, counted once (and not at all
 * when no policy is published): everyone less those outside scope (people_out_of_scope). The acknowledgements
 * made are those of the versions in force, counted from policy_ack_version_person alone, less those of the
 * people outside scope, found by person: each person acknowledges a version once.
 */
export async function programmeFigures(db: Db, today: string): Promise<ProgrammeFigures> {
  const [row] = await select<ProgrammeFigures>(db, sql`
    with current_versions as (${CURRENT_POLICY_VERSIONS}),
    board_members as (select id from people where roles @> array['management_body']::text[]),
    board_courses as (select id from training_courses where audience_role = 'management_body')
    select
      (select count(*)::int from evidence_requests where status = 'open') as "evidenceOpen",
      (select count(*)::int from evidence_requests where status = 'open' and due_on < ${today}::date) as "evidenceOverdue",
      (select count(*)::int from scope_changes where status = 'proposed') as "scopeChangesProposed",
      (select count(*)::int from poam_items where status in ('open', 'in_progress')) as "poamOpen",
      (select count(*)::int from poam_items where status in ('open', 'in_progress') and due_on < ${today}::date) as "poamOverdue",
      (select count(*)::int from poam_extensions where status = 'requested') as "extensionsPending",
      ((select count(*) from policy_acknowledgements a where a.policy_version_id = any(array(select id from current_versions)))
        - (select count(*) from people p join policy_acknowledgements a on a.person_id = p.id join current_versions cv on cv.id = a.policy_version_id
          where not p.in_scope))::int as "policyAcks",
      ((select count(*) from current_versions)
        * ((select count(*) from people where exists (select 1 from current_versions)) - (select count(*) from people where not in_scope)))::int as "policyAcksExpected",
      (select count(*)::int from board_courses) as "boardCourses",
      (select count(*)::int from board_members) as "boardMembers",
      (select count(*)::int from board_members m where (
        select count(*) from board_courses c join training_standing s
          on s.person_id = m.id and s.course_id = c.id and s.furthest_on >= ${today}::date) = (select count(*) from board_courses)) as "boardMembersCovered",
      (select max_residual_score from risk_appetite where approved_at is not null order by id desc limit 1) as "riskAppetite",
      (select count(*)::int from risks where status <> 'closed') as "risksOpen",
      (select count(*)::int from risks where status <> 'closed'
        and residual_score > (select max_residual_score from risk_appetite where approved_at is not null order by id desc limit 1)) as "risksOverAppetite",
      (select count(*)::int from management_approvals where status = 'pending') as "approvalsPending"`);
  return row;
}

/** A few of the items waiting for a person's decision, oldest first, and how many there are in all. */
export interface Waiting<T> { total: number; oldest: T[] }

/**
 * Whether the person may decide work done by `doers`: decidersOf, the rule the decide commands enforce
 * (core/duties.ts), its roles' holders read once (`rule`, shared by the parts of one answer) for all the sets of doers.
 */
async function mayDecideFor(rule: () => Promise<DecidersRule>, personId: number, doerSets: number[][]): Promise<boolean[]> {
  if (doerSets.length === 0) return [];
  const deciders = await rule();
  return doerSets.map((doers) => deciders(doers).people.some((p) => p.id === personId));
}

export interface TriageWaiting { ref: string; kind: ScopeChangeKind; subject: string; declarer: string; declaredAt: Date }

/**
 * Declarations and scope changes waiting for triage that the person may decide: an ISMS lead anyone else's,
 * a management-body member those every ISMS lead had a part in. Nobody decides their own.
 */
export async function triageDecidableBy(db: Db, personId: number, shown: number, rule = lazyDecidersRule(db)): Promise<Waiting<TriageWaiting>> {
  const proposed = eq(scopeChanges.status, 'proposed');
  const declarers = await db.select({ by: scopeChanges.declaredBy, n: count() }).from(scopeChanges).where(proposed).groupBy(scopeChanges.declaredBy);
  const allowed = await mayDecideFor(rule, personId, declarers.map((d) => [d.by]));
  const theirs = declarers.filter((_, i) => allowed[i]);
  if (theirs.length === 0) return { total: 0, oldest: [] };
  const oldest = await db.select({
    ref: scopeChanges.ref, kind: scopeChanges.kind, subject: scopeChanges.subject, declarer: people.name, declaredAt: scopeChanges.declaredAt,
  }).from(scopeChanges).innerJoin(people, eq(people.id, scopeChanges.declaredBy))
    .where(and(proposed, inArray(scopeChanges.declaredBy, theirs.map((d) => d.by))))
    .orderBy(asc(scopeChanges.declaredAt), asc(scopeChanges.id)).limit(shown);
  return { total: theirs.reduce((n, d) => n + d.n, 0), oldest };
}

export interface ExtensionWaiting {
  ref: string; itemRef: string; weakness: string; previousDueOn: string; requestedDueOn: string; reason: string; requester: string; requestedAt: Date;
}

/**
 * POA&M extension requests the person may decide: neither asked for by them nor on an item they own, and,
 * for a management-body member, only where every ISMS lead asked for it or owns the item.
 */
export async function extensionsDecidableBy(db: Db, personId: number, shown: number, rule = lazyDecidersRule(db)): Promise<Waiting<ExtensionWaiting>> {
  const requested = eq(poamExtensions.status, 'requested');
  const pairs = await db.select({ by: poamExtensions.requestedBy, owner: poamItems.ownerId, n: count() })
    .from(poamExtensions).innerJoin(poamItems, eq(poamItems.id, poamExtensions.itemId))
    .where(requested).groupBy(poamExtensions.requestedBy, poamItems.ownerId);
  const allowed = await mayDecideFor(rule, personId, pairs.map((p) => [p.by, p.owner]));
  const theirs = pairs.filter((_, i) => allowed[i]);
  if (theirs.length === 0) return { total: 0, oldest: [] };
  const oldest = await db.select({
    ref: poamExtensions.ref, itemRef: poamItems.ref, weakness: poamItems.weakness, previousDueOn: poamExtensions.previousDueOn,
    requestedDueOn: poamExtensions.requestedDueOn, reason: poamExtensions.reason, requester: people.name, requestedAt: poamExtensions.requestedAt,
  }).from(poamExtensions).innerJoin(poamItems, eq(poamItems.id, poamExtensions.itemId)).innerJoin(people, eq(people.id, poamExtensions.requestedBy))
    .where(and(requested, or(...theirs.map((p) => and(eq(poamExtensions.requestedBy, p.by), eq(poamItems.ownerId, p.owner))))))
    .orderBy(asc(poamExtensions.requestedAt), asc(poamExtensions.id)).limit(shown);
  return { total: theirs.reduce((n, p) => n + p.n, 0), oldest };
}
