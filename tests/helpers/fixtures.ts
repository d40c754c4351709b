import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../src/db/client.js';
import {
  aiTools, assets, controls, evidenceItems, evidenceRequests, people, policies, policyVersions, scopeChanges, suppliers, EVIDENCE_REQUEST_STATUSES,
  type DATA_ACCESS, type SCOPE_CHANGE_KINDS,
} from '../../src/db/schema/index.js';
import { nextRef } from '../../src/core/refs.js';
import { readEvidenceFile } from '../../src/domain/evidence/files.js';
import { downloadPrefix } from '../../src/core/attachments.js';
import { appendAudit } from '../../src/core/audit.js';
import { supplierTier } from '../../src/domain/declarations/supplier-tier.js';

/** Register rows tests start from; each helper takes what the test cares about and fills the rest. */

export async function addControl(db: Db, values: { code: string; title?: string; ownerId?: number | null }) {
  const [control] = await db.insert(controls).values({
    code: values.code, title: values.title ?? `Control ${values.code}`, ownerId: values.ownerId ?? null,
  }).returning();
  return control;
}

export async function addEvidenceRequest(db: Db, values: {
  controlId: number; ownerId: number; dueOn: string; cycle?: string; status?: (typeof EVIDENCE_REQUEST_STATUSES)[number];
}) {
  const ref = await nextRef(db, 'EVR');
  const [request] = await db.insert(evidenceRequests).values({
    ref, controlId: values.controlId, ownerId: values.ownerId, dueOn: values.dueOn,
    cycle: values.cycle ?? '2026-Q3', status: values.status ?? 'open',
  }).returning();
  return request;
}

export async function addPolicy(db: Db, values: { title: string; ownerId?: number }) {
  const ref = await nextRef(db, 'POL');
  const [policy] = await db.insert(policies).values({ ref, title: values.title, ownerId: values.ownerId }).returning();
  return policy;
}

export async function addPolicyVersion(db: Db, values: { policyId: number; version: string; content: string; url?: string }) {
  const [major, minor] = values.version.split('.').map(Number);
  const [version] = await db.insert(policyVersions).values({
    policyId: values.policyId, version: values.version, major, minor, content: values.content,
    contentSha256: createHash('sha256').update(values.content, 'utf8').digest('hex'), url: values.url,
  }).returning();
  return version;
}

/** A scope change waiting for triage, as a declaration proposes it. */
export async function addScopeChange(db: Db, values: {
  kind: (typeof SCOPE_CHANGE_KINDS)[number]; subject: string; declaredBy: number; description?: string; subjectRef?: string;
}) {
  const [change] = await db.insert(scopeChanges).values({ ref: await nextRef(db, 'SC'), ...values }).returning();
  return change;
}

/** An AI tool and its scope change, the rows "/isms declare ai" writes (without its notice and audit events). */
export async function addAiTool(db: Db, values: { name: string; declaredBy: number; vendor?: string; purpose?: string; dataCategories?: string[] }) {
  const [tool] = await db.insert(aiTools).values({ ref: await nextRef(db, 'AI'), ...values }).returning();
  const change = await addScopeChange(db, {
    kind: 'new_ai_usage', subject: tool.name, description: values.purpose, subjectRef: tool.ref, declaredBy: values.declaredBy,
  });
  return { tool, change };
}

/** A supplier with its tier and scope change, the rows "/isms declare supplier" writes (without its notice and audit events). */
export async function addSupplier(db: Db, values: {
  name: string; declaredBy: number; service?: string; ict: boolean; critical: boolean; data: (typeof DATA_ACCESS)[number];
}) {
  const { ict, critical, data, ...rest } = values;
  const [supplier] = await db.insert(suppliers).values({
    ref: await nextRef(db, 'SUP'), ...rest, ictService: ict, supportsCriticalFunction: critical, dataAccess: data,
    criticalityTier: supplierTier({ ict, critical, data }), status: 'declared',
  }).returning();
  const change = await addScopeChange(db, {
    kind: 'new_supplier', subject: supplier.name, description: values.service, subjectRef: supplier.ref, declaredBy: values.declaredBy,
  });
  return { supplier, change };
}

export async function addAsset(db: Db, values: { name: string; ownerId?: number | null }) {
  const [asset] = await db.insert(assets).values({ ref: await nextRef(db, 'AST'), name: values.name, ownerId: values.ownerId ?? null }).returning();
  return asset;
}

/** The bytes stored for an evidence item's file, read back (and checked) the way the bot reads them. */
export async function storedFileBytes(db: Db, item: { id: number; ref: string; fileName: string | null; fileSize: number | null; fileSha256: string | null }): Promise<Buffer> {
  const parts: Buffer[] = [];
  const file = { id: item.id, ref: item.ref, name: item.fileName ?? '', size: item.fileSize ?? 0, sha256: item.fileSha256 ?? '' };
  for await (const part of readEvidenceFile(db, file)) parts.push(part);
  return Buffer.concat(parts);
}

/** Temporary folders this process's downloads left behind (none, once every command ran). */
export async function leftInDownloads(): Promise<string[]> {
  const prefix = downloadPrefix();
  return (await readdir(path.dirname(prefix))).filter((name) => name.startsWith(path.basename(prefix)));
}

/**
 * The events import would have recorded for the people and controls a test seeded directly, so that
 * verify finds every register row vouched for. Call it once the seeded rows are as the test wants them.
 */
export async function auditSeededRows(db: Db): Promise<void> {
  const seeded = { id: null, label: 'test fixture' };
  for (const p of await db.select().from(people)) await appendAudit(db, seeded, { action: 'create', entity: 'person', entityRef: p.email, after: p });
  for (const c of await db.select().from(controls)) await appendAudit(db, seeded, { action: 'create', entity: 'control', entityRef: c.code, after: c });
  for (const e of await db.select().from(evidenceItems)) await appendAudit(db, seeded, { action: 'submit', entity: 'evidence_item', entityRef: e.ref, after: e });
}
