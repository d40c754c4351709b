import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { auditEvents, controls, evidenceItems, evidenceRequests, people } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { findPersonById, hasRole, peopleWithRole } from '../../core/actor.js';
import { forbidden, invalid, notFound } from '../../core/errors.js';
import { seekArgs, seekFields, seekPage, type SeekInput } from '../../core/paging.js';
import { fileBlock, reply, text, type Field, type ListItem, type Reply } from '../../core/reply.js';
import { localDateTime, readersTime, zoneOr } from '../../core/time.js';
import { copyEvidenceFile, EvidenceFileMismatch, type StoredEvidenceFile } from './files.js';
import { asRequestRef, findControl, findRequest } from './lookup.js';
import { summariesOf, summaryField, type EvidenceSummary } from './summary.js';
import { channelInWords } from './words.js';

const EVIDENCE_REF = /^EV-?(\d+)$/i;

/** "ev-3" -> "EV-0003"; undefined when the text is not an evidence reference. */
export function asEvidenceRef(value: string): string | undefined {
  const m = EVIDENCE_REF.exec(value.trim());
  return m ? `EV-${m[1].padStart(4, '0')}` : undefined;
}

const submitter = alias(people, 'submitter');
const reviewer = alias(people, 'reviewer');

/**
 * What a listing shows of a revision, column by column: never the file's bytes, which stay in the
 * register until someone asks for the file.
 */
const REVISION_COLUMNS = {
  id: evidenceItems.id,
  ref: evidenceItems.ref,
  revision: evidenceItems.revision,
  controlId: evidenceItems.controlId,
  requestRef: evidenceRequests.ref,
  requestOwnerId: evidenceRequests.ownerId,
  requestStatus: evidenceRequests.status,
  submittedAt: evidenceItems.submittedAt,
  effectiveOn: evidenceItems.effectiveOn,
  text: evidenceItems.text,
  link: evidenceItems.link,
  fileName: evidenceItems.fileName,
  fileSize: evidenceItems.fileSize,
  fileSha256: evidenceItems.fileSha256,
  channel: evidenceItems.channel,
  submitterId: submitter.id,
  submitterName: submitter.name,
  submitterEmail: submitter.email,
  submitterTimezone: submitter.timezone,
};

const revisions = (ctx: CommandContext) => ctx.db.select(REVISION_COLUMNS).from(evidenceItems)
  .innerJoin(submitter, eq(submitter.id, evidenceItems.submittedBy))
  .leftJoin(evidenceRequests, eq(evidenceRequests.id, evidenceItems.requestId));

type Revision = Awaited<ReturnType<typeof revisions>>[number];

interface ControlInfo { id: number; code: string; title: string; ownerId: number | null }

/** What was asked for: one revision, every revision of a request, or every revision of a control. */
interface Shown {
  kind: 'revision' | 'request' | 'control';
  /** The reference as the person sees it: EV-0003, EVR-0001 or CTL-AC-01. */
  label: string;
  control: ControlInfo;
  request?: { ref: string; ownerId: number; status: string };
  /** The revision, when one was asked for. */
  item?: Revision;
  /** Which evidence_items rows belong to it. */
  where: SQL;
}

async function controlInfo(ctx: CommandContext, id: number): Promise<ControlInfo> {
  const [control] = await ctx.db.select({ id: controls.id, code: controls.code, title: controls.title, ownerId: controls.ownerId })
    .from(controls).where(eq(controls.id, id));
  return control;
}

async function resolve(ctx: CommandContext, target: string): Promise<Shown> {
  const evidenceRef = asEvidenceRef(target);
  if (evidenceRef) {
    const [item] = await revisions(ctx).where(eq(evidenceItems.ref, evidenceRef));
    if (!item) {
      throw notFound(`There is no evidence ${evidenceRef}.`,
        'Evidence references look like EV-0003; "/isms evidence show EVR-0001" lists the revisions of a request.');
    }
    const request = item.requestRef && item.requestOwnerId !== null && item.requestStatus
      ? { ref: item.requestRef, ownerId: item.requestOwnerId, status: item.requestStatus } : undefined;
    return { kind: 'revision', label: evidenceRef, control: await controlInfo(ctx, item.controlId), request, item, where: eq(evidenceItems.id, item.id) };
  }
  const requestRef = asRequestRef(target);
  if (requestRef) {
    const request = await findRequest(ctx.db, requestRef);
    return {
      kind: 'request', label: request.ref, control: await controlInfo(ctx, request.controlId),
      request: { ref: request.ref, ownerId: request.ownerId, status: request.status }, where: eq(evidenceItems.requestId, request.id),
    };
  }
  const control = await findControl(ctx.db, target);
  return {
    kind: 'control', label: control.code, control: { id: control.id, code: control.code, title: control.title, ownerId: control.ownerId },
    where: eq(evidenceItems.controlId, control.id),
  };
}

/**
 * Evidence is seen by the owner of its request or control, whoever submitted it (for a control's
 * whole history, only its owner), the ISMS lead and auditors. Everyone else is told whom to ask.
 */
async function authorise(ctx: CommandContext, shown: Shown): Promise<void> {
  if (hasRole(ctx.actor, 'isms_lead', 'auditor')) return;
  if (ctx.actor.id === shown.control.ownerId || ctx.actor.id === shown.request?.ownerId) return;
  if (shown.kind === 'revision' && shown.item?.submitterId === ctx.actor.id) return;
  if (shown.kind === 'request') {
    const [mine] = await ctx.db.select({ id: evidenceItems.id }).from(evidenceItems)
      .where(and(shown.where, eq(evidenceItems.submittedBy, ctx.actor.id))).limit(1);
    if (mine) return;
  }
  const ownerId = shown.request?.ownerId ?? shown.control.ownerId;
  const owner = ownerId === null ? undefined : await findPersonById(ctx.db, ownerId);
  const leads = (await peopleWithRole(ctx.db, 'isms_lead')).map((l) => `${l.name} <${l.email}>`);
  const whose = owner ? `${shown.label} belongs to ${owner.name} <${owner.email}>` : `${shown.label} has no owner`;
  const who = shown.kind === 'control' ? 'its owner' : 'its owner, whoever submitted it';
  const ask = [...(owner ? [`${owner.name} <${owner.email}>`] : []), leads.length ? `the ISMS lead (${leads.join(' or ')})` : 'the ISMS lead'];
  throw forbidden(`${whose}: only ${who}, the ISMS lead or an auditor can see its evidence.`,
    `Ask ${ask.join(' or ')} if you need to see it.`);
}

/** "2.1 MB": decimal units, as file browsers show them. */
export function humanSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const sizeInWords = (bytes: number) => (bytes < 1000 ? humanSize(bytes) : `${humanSize(bytes)}, ${bytes.toLocaleString('en-US')} bytes`);

/**
 * When a revision came in, on the reader's clock; also on the submitter's own when the register
 * knows a different time zone for them (a submission at 23:30 for them reads so).
 */
function submittedAt(r: Revision, readerZone: string | null | undefined): string {
  const shown = readersTime(r.submittedAt, readerZone);
  const own = zoneOr(r.submitterTimezone, '');
  return !own || own === zoneOr(readerZone, 'UTC') ? shown : `${shown} (${localDateTime(r.submittedAt, own)} for ${r.submitterName})`;
}

const sendFileCommand = (ref: string) => `evidence show ${ref} --download`;

interface ReviewAfter { acceptedEvidence?: string; reviewNote?: string | null; returnedEvidence?: string; returnReason?: string }

/**
 * The reviewers' verdicts on these revisions, by evidence reference: accepted or returned, by whom,
 * when, with the note or reason. evidence/review.ts records them in the audit trail only.
 */
async function verdictsOf(ctx: CommandContext, rows: Revision[]): Promise<Map<string, string>> {
  const verdicts = new Map<string, string>();
  const requestRefs = [...new Set(rows.flatMap((r) => (r.requestRef ? [r.requestRef] : [])))];
  if (requestRefs.length === 0) return verdicts;
  const events = await ctx.db.select({ at: auditEvents.at, action: auditEvents.action, after: auditEvents.after, name: reviewer.name, label: auditEvents.actorLabel })
    .from(auditEvents).leftJoin(reviewer, eq(reviewer.id, auditEvents.actorId))
    .where(and(eq(auditEvents.entity, 'evidence_request'), inArray(auditEvents.action, ['accept', 'return']), inArray(auditEvents.entityRef, requestRefs)))
    .orderBy(asc(auditEvents.seq));
  for (const e of events) {
    const after = (e.after ?? {}) as ReviewAfter;
    const ref = e.action === 'accept' ? after.acceptedEvidence : after.returnedEvidence;
    if (!ref) continue;
    const by = `by ${e.name ?? e.label} on ${readersTime(new Date(e.at), ctx.actor.timezone)}`;
    const words = e.action === 'accept'
      ? `accepted ${by}${after.reviewNote ? `: ${after.reviewNote}` : ''}`
      : `returned ${by}: ${after.returnReason ?? 'no reason recorded'}`;
    verdicts.set(ref, verdicts.has(ref) ? `${verdicts.get(ref)}; ${words}` : words);
  }
  return verdicts;
}

function revisionEntry(r: Revision, shown: Shown, verdict: string | undefined, summary: EvidenceSummary | undefined, readerZone: string | null | undefined): ListItem {
  const fields: Field[] = [
    { label: 'Submitted by', value: `${r.submitterName} <${r.submitterEmail}>` },
    { label: 'Submitted at', value: submittedAt(r, readerZone) },
    { label: 'Effective', value: r.effectiveOn },
    ...(shown.kind === 'control' ? [{ label: 'Request', value: r.requestRef ?? 'none (recorded against the control)' }] : []),
    ...(r.text ? [{ label: 'Text', value: r.text }] : []),
    ...(r.link ? [{ label: 'Link', value: r.link }] : []),
    ...(r.fileName ? [{ label: 'File', value: `${r.fileName} (${sizeInWords(r.fileSize ?? 0)})` }] : []),
    ...(r.fileSha256 ? [{ label: 'SHA-256', value: r.fileSha256 }] : []),
    ...(summary ? [summaryField(summary)] : []),
    { label: 'Sent in', value: channelInWords(r.channel) },
    ...(r.requestRef ? [{ label: 'Review', value: verdict ?? 'not reviewed' }] : []),
  ];
  return {
    title: `${r.ref} — revision ${r.revision}${shown.kind === 'control' && r.requestRef ? ` of ${r.requestRef}` : ''}`,
    detail: `submitted by ${r.submitterName}`,
    fields,
    buttons: r.fileName ? [{ label: 'Send me the file', command: sendFileCommand(r.ref) }] : [],
  };
}

async function listRevisions(ctx: CommandContext, shown: Shown, position: SeekInput): Promise<Reply> {
  // Newest first: ids grow in the order revisions were recorded, so a page is found by seeking the id.
  const window = await seekPage(ctx.db, evidenceItems, evidenceItems.id, position, `evidence show ${shown.label}`, `The evidence of ${shown.label}`,
    shown.where, { by: [], desc: true });
  const n = window.count;
  const rows = shown.item ? [shown.item]
    : window.ids.length === 0 ? [] : await revisions(ctx).where(inArray(evidenceItems.id, window.ids)).orderBy(desc(evidenceItems.id));
  const verdicts = await verdictsOf(ctx, rows);
  const summaries = await summariesOf(ctx.db, rows.map((r) => r.id));
  const { control, request } = shown;
  const about = shown.kind === 'control' ? `${control.code} ${control.title}`
    : `${shown.label}${request && shown.kind === 'revision' ? ` of ${request.ref}` : ''}, ${control.code} ${control.title}${request ? ` (request ${request.status})` : ''}`;
  const summary = shown.kind === 'revision' ? `Evidence ${about}.`
    : n === 0 ? `No evidence has been submitted for ${about} yet.`
      : n === 1 ? `1 revision submitted for ${about}.` : `${n} revisions submitted for ${about}, newest first.`;
  return reply(text(summary), {
    type: 'list',
    title: `Evidence of ${shown.label}${window.page.total > 1 ? ` (page ${window.page.number} of ${window.page.total})` : ''}`,
    items: rows.map((r) => revisionEntry(r, shown, verdicts.get(r.ref), summaries.get(r.id), ctx.actor.timezone)),
    empty: 'No revisions yet.',
    page: window.page,
  });
}

const MIME_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf', '.txt': 'text/plain', '.csv': 'text/csv', '.json': 'application/json', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.zip': 'application/zip',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** The submitted name as a plain file name: no folders, so it can only land in the folder it is saved into. */
function safeFileName(name: string, ref: string): string {
  // eslint-disable-next-line no-control-regex -- control characters have no place in a file name
  const base = path.basename(name.replace(/\\/g, '/')).replace(/[\u0000-\u001F\u007F]/g, '').trim();
  return base && base !== '.' && base !== '..' ? base : `${ref}.bin`;
}

/** Hands out a revision's file, checked against its SHA-256 on the way; a changed byte hands out nothing. */
async function sendFile(ctx: CommandContext, shown: Shown): Promise<Reply> {
  const item = shown.item;
  if (!item) {
    throw invalid(`"--download" sends the file of one revision, and ${shown.label} stands for all of its revisions.`,
      `Name the revision, e.g. "/isms evidence show EV-0003 --download"; "/isms evidence show ${shown.label}" lists them with their files.`);
  }
  if (!item.fileName || !item.fileSha256 || item.fileSize === null) {
    throw invalid(`${item.ref} has no file: it was submitted as ${item.link ? 'a link' : 'a text'}.`, `"/isms evidence show ${item.ref}" shows it.`);
  }
  const stored: StoredEvidenceFile = { id: item.id, ref: item.ref, name: item.fileName, size: item.fileSize, sha256: item.fileSha256 };
  const name = safeFileName(item.fileName, item.ref);
  // A folder of its own per file, as exports have: the platform takes the file from here and may remove the folder.
  const to = path.join(tmpdir(), 'isms-exports', randomUUID(), name);
  try {
    await copyEvidenceFile(ctx.db, stored, to);
  } catch (e) {
    await rm(path.dirname(to), { recursive: true, force: true });
    if (e instanceof EvidenceFileMismatch) return refuseChangedFile(ctx, e);
    throw e;
  }
  const title = `Evidence ${item.ref}, ${item.fileName} (${humanSize(item.fileSize)}), SHA-256 ${item.fileSha256.slice(0, 12)}…`;
  // An audited read, as an export is: who took which file, and that it was the one submitted.
  await ctx.audit({
    action: 'retrieve', entity: 'evidence_item', entityRef: item.ref,
    after: { retrieved: { file: item.fileName, bytes: item.fileSize, sha256: item.fileSha256 } },
  });
  return reply(
    text(`Here is the file of ${item.ref} (revision ${item.revision}); it matches the SHA-256 recorded when it was submitted.`, 'success'),
    fileBlock({ name, mimeType: MIME_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream', path: to, title }),
  );
}

/**
 * A stored file that no longer matches its SHA-256 is refused, and the ISMS leads are told at once:
 * the register has been changed outside the bot. Returned rather than thrown, so the message to
 * the leads and its audit event are kept.
 */
async function refuseChangedFile(ctx: CommandContext, e: EvidenceFileMismatch): Promise<Reply> {
  const { file } = e;
  const told: string[] = [];
  for (const lead of await peopleWithRole(ctx.db, 'isms_lead')) {
    if (lead.id === ctx.actor.id) continue;
    told.push(lead.name);
    await ctx.notify({
      recipientId: lead.id,
      kind: 'evidence_file_mismatch',
      // Once per lead for each changed content: asking again does not repeat the alarm.
      idempotencyKey: `evidence_file_mismatch:${file.ref}:${e.actualSha256}:${lead.id}`,
      reply: {
        ...reply(
          text(`The stored file of ${file.ref} (${file.name}) no longer matches the SHA-256 recorded when it was submitted. ${ctx.actor.name} asked for it; nothing was handed out.`, 'warning'),
          text('Check the register with "npm run isms -- verify" and find out who changed the file.'),
        ),
        outcome: 'info',
        about: file.ref,
      },
    });
  }
  await ctx.audit({
    action: 'refuse_retrieve', entity: 'evidence_item', entityRef: file.ref,
    after: { fileMismatch: { recordedSha256: file.sha256, storedSha256: e.actualSha256, storedBytes: e.actualSize } },
  });
  return {
    ...reply(
      text(`The file of ${file.ref} (${file.name}) does not match the SHA-256 recorded when it was submitted, so I can't hand it out. Nothing was handed out.`, 'error'),
      text(`The register should be checked with "npm run isms -- verify".${told.length ? ` The ISMS lead (${told.join(', ')}) has been told.` : ''}`),
    ),
    outcome: 'refused',
    visibility: 'private',
  };
}

export const showEvidenceCommand = defineCommand({
  name: 'evidence show',
  aliases: ['show evidence'],
  summary: 'Show evidence: one revision (EV-…), every revision of a request (EVR-…) or of a control; --download sends a revision\'s file',
  examples: ['evidence show EV-0003', 'evidence show EVR-0001', 'evidence show CTL-AC-01 --page 2', 'evidence show EV-0003 --download'],
  schema: z.object({
    target: z.string({ required_error: 'name the evidence (e.g. EV-0003), the evidence request (EVR-0001) or the control (CTL-AC-01)' })
      .trim().min(1, 'name the evidence (e.g. EV-0003), the evidence request (EVR-0001) or the control (CTL-AC-01)').max(100)
      .describe('One revision (EV-0003), an evidence request (EVR-0001: all its revisions) or a control (CTL-AC-01: all its revisions)'),
    download: z.enum(['true', 'false'], { errorMap: () => ({ message: 'is a switch: write --download on its own' }) }).optional()
      .describe("Send the revision's file, checked against its SHA-256 (one revision, EV-…)"),
    ...seekFields,
  }),
  args: {
    target: { positional: true, label: 'Evidence, request or control', value: 'EV-, EVR- or control id', placeholder: 'EV-0003, EVR-0001 or CTL-AC-01' },
    download: { switch: true, asked: false },
    ...seekArgs,
  },
  form: { title: 'Show evidence', submitLabel: 'Show' },
  async run(ctx, { target, download, ...position }) {
    const shown = await resolve(ctx, target);
    await authorise(ctx, shown);
    return download === 'true' ? sendFile(ctx, shown) : listRevisions(ctx, shown, position);
  },
});
