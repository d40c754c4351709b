import { appendFile } from 'node:fs/promises';
import { and, asc, desc, eq, getTableColumns, gt, inArray, isNotNull, isNull, sql, type Column, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import {
  aiTools, assets, auditEvents, auditFindings, controls, evidenceFileChunks, evidenceItems, evidenceRequests, evidenceSummaries, interestedParties, managementApprovals,
  managementReviews, people, poamClosures, poamExtensions, poamItems, policies, policyVersions, reviewNarratives, reviewPacks, risks, scopeChanges, suppliers, trainingCourses,
} from '../db/schema/index.js';
import { canonicalJson, verifyAuditChain } from './audit.js';
import { readersTime } from './time.js';
import { EvidenceFileMismatch, type StoredEvidenceFile, readEvidenceFile } from '../domain/evidence/files.js';
import { enqueue } from './outbox.js';
import { reply, text } from './reply.js';

/**
 * Register tables whose rows an audit event names by a unique column. Each current row must
 * match the after-images of its events (folded in order, since some events record only the
 * fields they changed); bytes are left to the evidence-file check.
 */
interface Audited {
  entity: string;
  table: PgTable;
  /** The column an event's entityRef names, or, for a row named by more than its own columns, the SQL that gives the name. */
  key: Column | SQL;
  what: string;
  /** The id column, for older events that named a row "<entity>:<id>" rather than by its key (pause and resume did, for people). */
  idRef?: Column;
  /** Register rows another entity's events record too (nested in their after-images), as [ref, after-image] pairs. */
  nestedIn?: { entity: string; images(after: Record<string, unknown>): [string, Record<string, unknown>][] };
}

const AUDITED: Audited[] = [
  { entity: 'person', table: people, key: people.email, what: 'person', idRef: people.id },
  { entity: 'asset', table: assets, key: assets.ref, what: 'asset' },
  // Interested parties have no reference: the import and the chat commands name them.
  { entity: 'interested_party', table: interestedParties, key: interestedParties.name, what: 'interested party' },
  { entity: 'control', table: controls, key: controls.code, what: 'control' },
  { entity: 'policy', table: policies, key: policies.ref, what: 'policy' },
  // "POL-0001 v1.0"; an import records the version it adds inside the policy's event.
  {
    entity: 'policy_version', table: policyVersions, what: 'policy version',
    key: sql`(select p.ref from policies p where p.id = ${policyVersions.policyId}) || ' v' || ${policyVersions.version}`,
    nestedIn: { entity: 'policy', images: (after) => nestedVersion(after) },
  },
  { entity: 'training_course', table: trainingCourses, key: trainingCourses.code, what: 'training course' },
  { entity: 'supplier', table: suppliers, key: suppliers.ref, what: 'supplier' },
  { entity: 'ai_tool', table: aiTools, key: aiTools.ref, what: 'AI tool' },
  { entity: 'scope_change', table: scopeChanges, key: scopeChanges.ref, what: 'scope change' },
  { entity: 'risk', table: risks, key: risks.ref, what: 'risk' },
  { entity: 'evidence_request', table: evidenceRequests, key: evidenceRequests.ref, what: 'evidence request' },
  { entity: 'evidence_item', table: evidenceItems, key: evidenceItems.ref, what: 'evidence' },
  // A machine-generated summary is named by the evidence it summarises.
  {
    entity: 'evidence_summary', table: evidenceSummaries, what: 'evidence summary of',
    key: sql`(select e.ref from evidence_items e where e.id = ${evidenceSummaries.evidenceItemId})`,
  },
  { entity: 'poam_item', table: poamItems, key: poamItems.ref, what: 'POA&M item' },
  { entity: 'poam_extension', table: poamExtensions, key: poamExtensions.ref, what: 'POA&M extension' },
  { entity: 'poam_closure', table: poamClosures, key: poamClosures.ref, what: 'POA&M closure' },
  { entity: 'audit_finding', table: auditFindings, key: auditFindings.ref, what: 'audit finding' },
  { entity: 'management_review', table: managementReviews, key: managementReviews.ref, what: 'management review' },
  { entity: 'review_pack', table: reviewPacks, key: reviewPacks.ref, what: 'management review pack' },
  { entity: 'review_narrative', table: reviewNarratives, key: reviewNarratives.ref, what: 'review pack narrative' },
  { entity: 'management_approval', table: managementApprovals, key: managementApprovals.ref, what: 'management-body approval' },
];

/** Rows read per page while checking the register against its events. */
const PAGE = 5000;

/** A chain head as the witness recorded it. */
export interface WitnessedHead { seq: number; hash: string }

export type RegisterVerdict =
  | { ok: true; events: number; rows: number; files: number; witnessed: number; head?: WitnessedHead }
  | { ok: false; problem: string };

/**
 * What an auditor runs: the audit trail's hash chain, every audited register row against the
 * last state its events recorded, every stored evidence file against its SHA-256, and the chain
 * against heads witnessed outside the database (which is what reveals a cut or rewritten tail).
 * Stops at the first mismatch and names it. A register row no event names fails too: every way the
 * bot writes a row (commands, scheduled jobs, import, the example organisation) records its event,
 * so nothing vouches for a row without one.
 */
export async function verifyRegister(db: Db, witnessed: WitnessedHead[] = []): Promise<RegisterVerdict> {
  const chain = await verifyAuditChain(db);
  if (!chain.ok) return { ok: false, problem: `Audit trail broken at event #${chain.firstBadSeq}: ${chain.reason}.` };
  const witness = await checkWitnessed(db, witnessed);
  if (witness) return { ok: false, problem: witness };
  let rowCount = 0;
  const unaudited: string[] = [];
  for (const audited of AUDITED) {
    const checked = await checkRows(db, audited, unaudited);
    if (typeof checked === 'string') return { ok: false, problem: checked };
    rowCount += checked;
  }
  if (unaudited.length) return { ok: false, problem: describeUnaudited(unaudited) };
  const files = await checkEvidenceFiles(db);
  if (typeof files === 'string') return { ok: false, problem: files };
  const head = await chainHead(db);
  return { ok: true, events: chain.rows, rows: rowCount, files, witnessed: witnessed.length, ...(head && { head }) };
}

/** "supplier SUP-0003 has no audit event…", naming the first few when there are more. */
function describeUnaudited(rows: string[]): string {
  const shown = rows.slice(0, 5).join(', ') + (rows.length > 5 ? `, and ${rows.length - 5} more` : '');
  return rows.length === 1
    ? `${shown} has no audit event: it was written outside the bot (e.g. in SQL) or its events were cut from the trail, so nothing vouches for it.`
    : `${rows.length} register rows have no audit event: they were written outside the bot (e.g. in SQL) or their events were cut from the trail, so nothing vouches for them: ${shown}.`;
}

/** The newest audit event: what the witness records. */
export async function chainHead(db: Db): Promise<WitnessedHead | undefined> {
  const [last] = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
  return last;
}

async function checkWitnessed(db: Db, witnessed: WitnessedHead[]): Promise<string | undefined> {
  if (witnessed.length === 0) return undefined;
  const found = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents)
    .where(inArray(auditEvents.seq, witnessed.map((w) => w.seq)));
  const bySeq = new Map(found.map((e) => [e.seq, e.hash]));
  const head = await chainHead(db);
  for (const w of [...witnessed].sort((a, b) => a.seq - b.seq)) {
    const hash = bySeq.get(w.seq);
    if (hash === undefined) {
      return `Audit trail cut short: witnessed event #${w.seq} (${w.hash.slice(0, 12)}…) no longer exists; the trail now ends at #${head?.seq ?? 0}.`;
    }
    if (hash !== w.hash) {
      return `Audit trail rewritten: event #${w.seq} hashes ${hash.slice(0, 12)}…, but the witness recorded ${w.hash.slice(0, 12)}….`;
    }
  }
  return undefined;
}

/** Returns how many rows matched, or the first mismatch in words; rows no event names are collected for the caller. */
async function checkRows(db: Db, audited: Audited, unaudited: string[]): Promise<number | string> {
  const columns = Object.fromEntries(Object.entries(getTableColumns(audited.table))
    .filter(([, c]) => c.getSQLType() !== 'bytea'));
  const entities = [audited.entity, ...(audited.nestedIn ? [audited.nestedIn.entity] : [])];
  // Events are read a page at a time: what is held is one folded image per register row, not the trail.
  const recorded = new Map<string, Record<string, unknown>>();
  const keyOfId = new Map<number, string | undefined>();
  const named = async (ref: string): Promise<string> => {
    const byId = audited.idRef ? new RegExp(`^${audited.entity}:(\\d+)$`).exec(ref) : null;
    if (!byId || !audited.idRef) return ref;
    const id = Number(byId[1]);
    if (!keyOfId.has(id)) {
      const [row] = await db.select({ key: sql<string>`${audited.key}` }).from(audited.table).where(eq(audited.idRef, id));
      keyOfId.set(id, row?.key);
    }
    return keyOfId.get(id) ?? ref;
  };
  for (let after = 0; ;) {
    const events = await db.select({ seq: auditEvents.seq, entity: auditEvents.entity, ref: auditEvents.entityRef, after: auditEvents.after }).from(auditEvents)
      .where(and(inArray(auditEvents.entity, entities), gt(auditEvents.seq, after))).orderBy(asc(auditEvents.seq)).limit(PAGE);
    for (const e of events) {
      if (!e.after || typeof e.after !== 'object') continue;
      const image = e.after as Record<string, unknown>;
      const images: [string, Record<string, unknown>][] = e.entity === audited.entity ? [[await named(e.ref), image]] : audited.nestedIn!.images(image);
      for (const [ref, folded] of images) recorded.set(ref, { ...recorded.get(ref), ...folded });
    }
    if (events.length < PAGE) break;
    after = events[events.length - 1].seq;
  }
  const key = sql<string>`${audited.key}`;
  let matched = 0;
  for (let last: string | undefined; ;) {
    const current = await db.select({ ...columns, [REF]: key }).from(audited.table)
      .where(last === undefined ? undefined : gt(key, last)).orderBy(asc(key)).limit(PAGE) as Record<string, unknown>[];
    for (const row of current) {
      const ref = String(row[REF]);
      const expected = recorded.get(ref);
      if (!expected) {
        unaudited.push(`${audited.what} ${ref}`);
        continue;
      }
      const differing = Object.keys(expected).filter((field) => field in columns
        && canonicalJson(row[field]) !== canonicalJson(expected[field]));
      if (differing.length) {
        return `${audited.what} ${ref} differs from its last audit event in ${differing.join(', ')}: it was changed without one.`;
      }
      matched++;
    }
    if (current.length < PAGE) break;
    last = String(current[current.length - 1][REF]);
  }
  return matched;
}

/** Where the selected rows carry their reference (no column of any table is called so). */
const REF = '__auditRef';

/** The policy version an import's policy event holds as `version`, named "POL-0001 v1.0". */
function nestedVersion(after: Record<string, unknown>): [string, Record<string, unknown>][] {
  const version = after.version as Record<string, unknown> | null | undefined;
  if (!version || typeof version !== 'object' || typeof after.ref !== 'string' || typeof version.version !== 'string') return [];
  return [[`${after.ref} v${version.version}`, version]];
}

/**
 * Each stored file is read back a chunk at a time and hashed, so the check costs one chunk of memory
 * whatever the files' sizes. Chunks of an evidence item that records no file are caught too.
 */
async function checkEvidenceFiles(db: Db): Promise<number | string> {
  const evidence = await db.select({ id: evidenceItems.id, ref: evidenceItems.ref, name: evidenceItems.fileName, size: evidenceItems.fileSize, sha256: evidenceItems.fileSha256 })
    .from(evidenceItems).where(isNotNull(evidenceItems.fileSha256)).orderBy(asc(evidenceItems.id));
  // POA&M closure evidence is stored like evidence files, and checked alike.
  const closures = await db.select({ id: poamClosures.id, ref: poamClosures.ref, name: poamClosures.fileName, size: poamClosures.fileSize, sha256: poamClosures.fileSha256 })
    .from(poamClosures).where(isNotNull(poamClosures.fileSha256)).orderBy(asc(poamClosures.id));
  const files = [...evidence.map((f) => ({ ...f, store: 'evidence' as const })), ...closures.map((f) => ({ ...f, store: 'poam_closure' as const }))];
  for (const f of files) {
    const file: StoredEvidenceFile = { id: f.id, ref: f.ref, name: f.name ?? '', size: f.size ?? 0, sha256: f.sha256!, store: f.store };
    try {
      for await (const part of readEvidenceFile(db, file)) void part;
    } catch (e) {
      if (!(e instanceof EvidenceFileMismatch)) throw e;
      const named = `${f.store === 'evidence' ? 'Evidence' : 'Closure evidence'} file of ${f.ref}${f.name ? ` (${f.name})` : ''}`;
      if (e.actualSha256 !== file.sha256) {
        return `${named} does not match its SHA-256: recorded ${file.sha256.slice(0, 12)}…, the stored bytes hash to ${e.actualSha256.slice(0, 12)}….`;
      }
      return `${named} is not stored as submitted: recorded ${file.size} bytes, its stored chunks hold ${e.actualSize} bytes${e.actualSize === file.size ? ' with one out of place' : ''}.`;
    }
  }
  const [stray] = await db.selectDistinct({ ref: evidenceItems.ref }).from(evidenceFileChunks)
    .innerJoin(evidenceItems, eq(evidenceItems.id, evidenceFileChunks.itemId))
    .where(isNull(evidenceItems.fileSha256)).orderBy(evidenceItems.ref).limit(1);
  if (stray) return `Evidence ${stray.ref} records no file, but file bytes are stored for it.`;
  return files.length;
}

/** Reads a witness: a file of JSON lines ({"seq":…,"hash":…}) or one pasted "seq:hash". */
export function parseWitness(text: string): WitnessedHead[] | string {
  const pasted = /^#?(\d+):([0-9a-f]{64})$/i.exec(text.trim());
  if (pasted) return [{ seq: Number(pasted[1]), hash: pasted[2].toLowerCase() }];
  const heads: WitnessedHead[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try { parsed = JSON.parse(line); } catch { parsed = undefined; }
    const head = parsed as Partial<WitnessedHead> | undefined;
    if (!head || !Number.isInteger(head.seq) || typeof head.hash !== 'string' || !/^[0-9a-f]{64}$/.test(head.hash)) {
      return `line ${i + 1} is not a witnessed head ({"seq": <event number>, "hash": "<64 hex digits>"})`;
    }
    heads.push({ seq: head.seq!, hash: head.hash });
  }
  return heads.length ? heads : 'it holds no witnessed head';
}

/** The verdict in a few lines, the same in chat and on the terminal. */
export function describeVerdict(v: RegisterVerdict): string {
  if (!v.ok) return v.problem;
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const witness = v.witnessed ? `; ${plural(v.witnessed, 'witnessed head')} found unchanged` : '';
  const head = v.head ? `\nChain head: ${v.head.seq}:${v.head.hash}` : '';
  return `Audit trail intact: ${plural(v.events, 'event')}, each linked to the one before; `
    + `${plural(v.rows, 'register row')} ${v.rows === 1 ? 'matches its' : 'match their'} last audit event; `
    + `${plural(v.files, 'evidence file')} ${v.files === 1 ? 'matches its' : 'match their'} SHA-256${witness}.${head}`;
}

export type WitnessResult = { head: WitnessedHead; sentTo: number; file?: string } | { head: undefined };

/**
 * Sends the chain head to the ISMS leads through the outbox and appends it to the witness file:
 * copies outside the database that a later `verify --witness` compares against. Witnessing is not
 * itself an audit event, or the head would move the moment it is recorded.
 */
export async function witnessChainHead(db: Db, leads: { id: number; timezone?: string | null }[], file: string | undefined, now: Date): Promise<WitnessResult> {
  const head = await chainHead(db);
  if (!head) return { head: undefined };
  const pasted = `${head.seq}:${head.hash}`;
  for (const lead of leads) {
    await enqueue(db, {
      recipientId: lead.id, kind: 'audit_witness', idempotencyKey: `audit-witness:${pasted}:${lead.id}`,
      reply: reply(
        text(`Audit trail head, ${readersTime(now, lead.timezone)}: event #${head.seq}, hash ${head.hash}.`),
        text(`Keep this message. "npm run isms -- verify --witness ${pasted}" later shows whether the trail was cut short or rewritten after this point.`),
      ),
    });
  }
  if (file) await appendFile(file, `${JSON.stringify({ seq: head.seq, hash: head.hash, at: now.toISOString() })}\n`);
  return { head, sentTo: leads.length, ...(file && { file }) };
}
