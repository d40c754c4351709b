import type { Db } from '../../db/client.js';
import type { managementApprovals } from '../../db/schema/index.js';
import type { CommandContext } from '../../core/router.js';
import type { Deed } from '../../core/duties.js';
import type { Field } from '../../core/reply.js';

export type Approval = typeof managementApprovals.$inferSelect;

/** A thing as it is now, as the management body is asked to approve it. */
export interface SubjectNow {
  /** "Information security policy POL-0001 version 2.0". */
  title: string;
  /** What the decision keeps: the exact version (content hash), residual score, tier, …; JSON only. */
  state: Record<string, unknown>;
  /** What the approver reads on the card and in `/isms approvals`. */
  facts: Field[];
  /** What else the approver may do instead ("/isms ai restrict …"): shown while the request waits, not once it is decided. */
  alternatives?: Field[];
  /** The people whose work it is: none of them may approve or reject it. */
  authors: Deed[];
}

/**
 * One kind of thing the management body approves. Each register that needs the body's approval
 * defines one (next to its own code) and lists it in approvals/subjects.ts.
 */
export interface ApprovalSubject {
  /** Stored as management_approvals.subject_kind, e.g. 'policy_version'. */
  kind: string;
  /** Read in sentences: "the risk appetite", "a tier-1 supplier". */
  label: string;
  /**
   * The thing as it is now; undefined when it no longer exists. `timezone` is the reader's: days in the
   * facts are on their clock (the organisation's when not known); the state does not depend on it.
   */
  current(db: Db, subjectRef: string, timezone?: string | null): Promise<SubjectNow | undefined>;
  /** Refuses (throws a UserError) a member who may not decide this one, beyond the authors, e.g. without valid board training. */
  checkDecider?(ctx: CommandContext, approval: Approval): Promise<void>;
  /** Runs in the decision's transaction once the body approved it (e.g. a scope change becomes ratified). */
  onApproved?(ctx: CommandContext, approval: Approval): Promise<void>;
  /** Runs in the decision's transaction once the body rejected it. */
  onRejected?(ctx: CommandContext, approval: Approval): Promise<void>;
}
