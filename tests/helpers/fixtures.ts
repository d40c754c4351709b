import { createHash } from 'node:crypto';
import type { Db } from '../../src/db/client.js';
import { controls, evidenceRequests, policies, policyVersions, EVIDENCE_REQUEST_STATUSES } from '../../src/db/schema/index.js';
import { nextRef } from '../../src/core/refs.js';

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
