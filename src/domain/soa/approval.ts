import { defineCommand } from '../../core/router.js';
import { sha256Json } from '../../core/audit.js';
import { conflict } from '../../core/errors.js';
import { reply, text } from '../../core/reply.js';
import { FRAMEWORKS, FRAMEWORK_IDS, type FrameworkId } from '../../refdata/frameworks.js';
import type { ApprovalSubject } from '../approvals/subject.js';
import { approvalInForce, approvalInWords, latestApproval, refreshApprovals, requestApproval } from '../approvals/request.js';
import type { Db } from '../../db/client.js';
import { soaRows, summarise } from './soa.js';
import { SOA_ARTEFACTS } from './export.js';
import { frameworkArg, frameworkInput, resolveFramework } from './frameworks.js';

const SOA_PREFIX = 'SoA ';
const artefactOf = (framework: FrameworkId) => SOA_ARTEFACTS.find((a) => a.framework === framework)?.name;
export const soaSubjectRef = (framework: FrameworkId) => `${SOA_PREFIX}${framework}`;

/**
 * The statement of applicability as the management body approves it: which requirements apply, why,
 * and through which controls. Implementation and evidence freshness move every day and are not part
 * of what is approved, so the day they are read on does not matter here.
 */
export const soaApproval: ApprovalSubject = {
  kind: 'soa',
  label: 'the statement of applicability',
  async current(db: Db, ref: string) {
    const framework = FRAMEWORK_IDS.find((f) => soaSubjectRef(f) === ref);
    if (!framework) return undefined;
    const rows = await soaRows(db, framework, '2000-01-01');
    if (rows.length === 0) return undefined;
    const decisions = rows.map((r) => ({ reference: r.reference, decision: r.decision, justification: r.justification, controls: r.controls }));
    const s = summarise(rows);
    return {
      title: `the statement of applicability for ${FRAMEWORKS[framework].name}`,
      state: { framework, requirements: s.requirements, applicable: s.applicable, notApplicable: s.notApplicable, decisionsSha256: sha256Json(decisions) },
      facts: [
        { label: 'Framework', value: FRAMEWORKS[framework].name },
        { label: 'Decided', value: `${s.decided} of ${s.requirements} requirements (${s.applicable} applicable, ${s.notApplicable} not applicable)` },
        { label: 'Read it', value: `/isms soa ${framework}${artefactOf(framework) ? `; every row: /isms export ${artefactOf(framework)}` : ''}` },
      ],
      authors: [],
    };
  },
};

/** "approved by … on … (APR-…)", or why the statement as it is now is not covered by an approval. */
export async function soaApprovalInWords(db: Db, framework: FrameworkId, timezone: string | null | undefined): Promise<string> {
  const ref = soaSubjectRef(framework);
  const latest = await latestApproval(db, soaApproval, ref);
  if (latest?.status === 'approved' && !latest.staleAt && !(await approvalInForce(db, soaApproval, ref))) {
    return `${approvalInWords(latest, timezone)}, but it changed since: submit it again with "/isms soa submit ${framework}"`;
  }
  return approvalInWords(latest, timezone);
}

export const soaSubmitCommand = defineCommand({
  name: 'soa submit',
  summary: 'Submit the statement of applicability of a framework to the management body for approval',
  examples: ['soa submit ISO27001:2022'],
  roles: ['isms_lead'],
  schema: frameworkInput,
  args: frameworkArg,
  form: { title: 'Submit the statement of applicability', submitLabel: 'Submit' },
  async run(ctx, args) {
    const framework = resolveFramework(args.framework);
    const ref = soaSubjectRef(framework);
    const now = await soaApproval.current(ctx.db, ref);
    if (!now) throw conflict(`${FRAMEWORKS[framework].name} has no requirements in the register, so there is no statement of applicability to submit.`);
    if (await approvalInForce(ctx.db, soaApproval, ref)) {
      throw conflict(`The statement of applicability for ${FRAMEWORKS[framework].name} is already ${await soaApprovalInWords(ctx.db, framework, ctx.actor.timezone)}, and has not changed since.`,
        'Nothing was recorded.');
    }
    await refreshApprovals(ctx, soaApproval, ref, 'its applicability decisions changed');
    const { approval, created, asked } = await requestApproval(ctx, soaApproval, ref);
    return reply(
      text(created ? `The statement of applicability for ${FRAMEWORKS[framework].name} is submitted to the management body (${approval.ref}).`
        : `The statement of applicability for ${FRAMEWORKS[framework].name}, as it is, already waits for the management body (${approval.ref}).`, 'success'),
      text(asked.length ? `Asked: ${asked.map((p) => p.name).join(', ')}.` : 'Nobody in the management body is free to approve it: add a member by import.',
        asked.length ? 'info' : 'warning'),
    );
  },
});
