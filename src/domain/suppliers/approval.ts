import { eq } from 'drizzle-orm';
import { suppliers } from '../../db/schema/index.js';
import type { CommandContext } from '../../core/router.js';
import type { Field } from '../../core/reply.js';
import { approvalInForce, approvalInWords, latestApproval, refreshApprovals, requestApproval } from '../approvals/request.js';
import type { ApprovalSubject } from '../approvals/subject.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { SUBSTITUTABILITY_LABELS } from './register-of-information.js';
import type { Db } from '../../db/client.js';

type Supplier = typeof suppliers.$inferSelect;

/** DORA Art. 28: the management body approves reliance on a provider that supports a critical or important function. */
export const isTierOne = (s: Pick<Supplier, 'criticalityTier' | 'status'>) => s.criticalityTier === 'tier1_critical' && s.status === 'accepted';

/** What the management body approves about a tier-1 supplier: a change to any of it needs its approval again. */
export function approvedState(s: Supplier) {
  return {
    ref: s.ref, tier: s.criticalityTier, dataAccess: s.dataAccess, contractRef: s.contractRef,
    exitStrategy: s.exitStrategy, exitPlan: s.exitPlan, lei: s.lei, substitutability: s.substitutability,
  };
}

function facts(s: Supplier): Field[] {
  return [
    { label: 'Supplier', value: `${s.ref} ${s.name}${s.service ? `: ${s.service}` : ''}` },
    { label: 'Criticality tier', value: TIER_LABELS[s.criticalityTier] },
    { label: 'Data', value: s.dataAccess.replace(/_/g, ' ') },
    { label: 'Contract', value: s.contractRef ?? 'not recorded' },
    { label: 'Exit strategy', value: s.exitPlan ?? (s.exitStrategy ? 'documented' : 'none recorded') },
    { label: 'LEI', value: s.lei ?? 'not recorded' },
    { label: 'Substitutability', value: s.substitutability ? SUBSTITUTABILITY_LABELS[s.substitutability] : 'not assessed' },
  ];
}

export const supplierApproval: ApprovalSubject = {
  kind: 'supplier',
  label: 'a tier-1 supplier',
  async current(db, ref) {
    const [s] = await db.select().from(suppliers).where(eq(suppliers.ref, ref));
    if (!s) return undefined;
    return {
      title: `tier-1 supplier ${s.name} (${s.ref})`,
      state: approvedState(s),
      facts: facts(s),
      authors: [
        { by: s.declaredBy, did: `declared ${s.ref} (${s.name}) yourself` },
        { by: s.ownerId, did: `own the supplier relationship ${s.ref} (${s.name})` },
      ],
    };
  },
};

/**
 * After a supplier changed: decisions that no longer match it are marked stale and, while it is an
 * accepted tier-1 supplier, the management body is asked to approve it as it is now.
 */
export async function settleSupplierApproval(ctx: CommandContext, supplier: Supplier, reason: string) {
  await refreshApprovals(ctx, supplierApproval, supplier.ref, reason);
  if (!isTierOne(supplier) || await approvalInForce(ctx.db, supplierApproval, supplier.ref)) return undefined;
  return requestApproval(ctx, supplierApproval, supplier.ref);
}

/** The management body's approval in words for a tier-1 supplier, the day on the reader's clock; undefined for others, who need none. */
export async function supplierApprovalInWords(db: Db, supplier: Supplier, timezone: string | null | undefined): Promise<string | undefined> {
  if (!isTierOne(supplier)) return undefined;
  const latest = await latestApproval(db, supplierApproval, supplier.ref);
  return latest ? approvalInWords(latest, timezone) : 'needs management-body approval, not yet asked';
}
