import type { ApprovalSubject } from './subject.js';
import { scopeChangeApproval, scopeStatementApproval } from '../declarations/scope-approval.js';
import { soaApproval } from '../soa/approval.js';
import { policyVersionSubject } from '../policies/approval.js';
import { supplierApproval } from '../suppliers/approval.js';
import { aiToolApproval } from '../declarations/ai-approval.js';
import { riskAcceptanceSubject } from '../risks/accept.js';
import { riskAppetiteSubject } from '../risks/appetite.js';

/**
 * Every kind of thing the management body approves. Each is defined beside its register and listed
 * here, so a stored request always finds the code that reads its thing as it is now.
 */
const SUBJECTS: ApprovalSubject[] = [
  scopeStatementApproval,
  scopeChangeApproval,
  soaApproval,
  policyVersionSubject,
  supplierApproval,
  aiToolApproval,
  riskAppetiteSubject,
  riskAcceptanceSubject,
];

export function approvalSubject(kind: string): ApprovalSubject {
  const subject = SUBJECTS.find((s) => s.kind === kind);
  if (!subject) throw new Error(`No approval subject "${kind}" is listed in approvals/subjects.ts.`);
  return subject;
}
