import { scopeChangeApproval, scopeStatementApproval } from '../declarations/scope-approval.js';
import { soaApproval } from '../soa/approval.js';
import { policyVersionSubject } from '../policies/approval.js';
import { supplierApproval } from '../suppliers/approval.js';
import { aiToolApproval } from '../declarations/ai-approval.js';
/**
 * Every kind of thing the management body approves. Each is defined beside its register and listed
 * here, so a stored request always finds the code that reads its thing as it is now.
 */
const SUBJECTS = [
    scopeStatementApproval,
    scopeChangeApproval,
    soaApproval,
    policyVersionSubject,
    supplierApproval,
    aiToolApproval,
];
export function approvalSubject(kind) {
    const subject = SUBJECTS.find((s) => s.kind === kind);
    if (!subject)
        throw new Error(`No approval subject "${kind}" is listed in approvals/subjects.ts.`);
    return subject;
}
//# sourceMappingURL=subjects.js.map