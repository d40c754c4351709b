import { SOA_ARTEFACTS } from '../soa/export.js';
import { OSCAL_DOCUMENTS } from '../oscal/documents.js';
import type { DocumentExport } from './document.js';
import { eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  aiTools, assets, auditEvents, managementApprovals, auditFindings, controls, evidenceItems, evidenceRequests, interestedParties, managementReviews, people,
  poamExtensions, poamItems, poamMilestones, policies, policyAcknowledgements, policyVersions, reviewDecisions, riskAcceptances, risks,
  scopeChanges, scopeStatements, suppliers, trainingAttestations, trainingCourses,
} from '../../db/schema/index.js';
import { ROLE_LABELS } from '../../core/actor.js';
import type { Role } from '../../db/schema/index.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { FINDING_LABELS } from '../reviews/shared.js';
import { KIND_LABELS } from '../triage/labels.js';
import { AI_STATUS_LABELS } from '../declarations/ai-status.js';
import { supplierApprovalInWords } from '../suppliers/approval.js';
import { REVIEW_OUTCOME_LABELS, SUBSTITUTABILITY_LABELS, serviceTypeInWords } from '../suppliers/register-of-information.js';
import { poamHistories } from '../poam/history.js';
import { type Artefact, byId, col, instant, pageWhere, words } from './artefact.js';
import { riskLinks } from '../risks/list.js';
import { threatInWords } from '../../refdata/threats.js';

const owner = alias(people, 'owner');
const decider = alias(people, 'decider');
const requester = alias(people, 'requester');
const superseded = alias(riskAcceptances, 'superseded');

const risksArtefact: Artefact = {
  name: 'risks',
  title: 'Risk register',
  periodMeaning: 'when the risk was recorded',
  columns: [
    col('ref', 'Reference', 'The risk reference, e.g. R-0001.'),
    col('title', 'Title', 'What could go wrong.'),
    col('description', 'Description', 'More about the risk, if recorded.'),
    col('asset', 'Asset', 'The asset the risk is about (reference and name), if one.'),
    col('scopeArea', 'Scope area', 'The part of the scope the risk is about when it is not one asset.'),
    col('threat', 'Threat', 'The threat, if recorded: its catalogue id and name, e.g. T-IS-004 Control degradation and operational drift (text recorded before threats were checked, as recorded).'),
    col('likelihood', 'Likelihood', 'Likelihood, 1 (rare) to 5 (almost certain).'),
    col('impact', 'Impact', 'Impact, 1 (negligible) to 5 (severe).'),
    col('inherentScore', 'Inherent score', 'Likelihood times impact before controls.'),
    col('residualScore', 'Residual score', 'The score with the controls in place.'),
    col('treatment', 'Treatment', 'mitigate, accept, transfer or avoid.'),
    col('owner', 'Owner', 'The risk owner, if named.'),
    col('status', 'Status', 'Where the risk stands, e.g. open.'),
    col('createdAt', 'Recorded at', 'When the risk was recorded (ISO 8601, UTC).'),
    col('linkedAssets', 'Linked assets', 'The assets the risk is linked to (reference and name), separated by "; ".'),
    col('controls', 'Controls', 'The codes of the controls that treat the risk, separated by "; ".'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ risk: risks, owner: owner.name, assetRef: assets.ref, assetName: assets.name }).from(risks)
      .leftJoin(owner, eq(owner.id, risks.ownerId)).leftJoin(assets, eq(assets.id, risks.assetId))
      .where(pageWhere(risks.id, after, period, { column: risks.createdAt })).orderBy(byId(risks.id)).limit(limit);
    const links = await riskLinks(db, rows.map((r) => r.risk.id));
    return rows.map(({ risk: r, owner: ownerName, assetRef, assetName }) => ({
      cursor: r.id,
      row: {
        ref: r.ref, title: r.title, description: r.description, asset: assetRef ? `${assetRef} ${assetName}` : null,
        scopeArea: r.scopeArea, threat: r.threatRef ? threatInWords(r.threatRef) : null, likelihood: r.likelihood, impact: r.impact, inherentScore: r.inherentScore,
        residualScore: r.residualScore, treatment: r.treatment, owner: ownerName, status: words(r.status), createdAt: instant(r.createdAt),
        linkedAssets: links.get(r.id)!.assets.join('; ') || null, controls: links.get(r.id)!.controls.join('; ') || null,
      },
    }));
  },
};

const riskAcceptancesArtefact: Artefact = {
  name: 'risk-acceptances',
  title: 'Risk acceptances',
  periodMeaning: 'when the acceptance was decided',
  columns: [
    col('risk', 'Risk', 'The reference of the risk accepted.'),
    col('riskTitle', 'Risk title', 'What could go wrong.'),
    col('residualScoreAtDecision', 'Residual score at decision', 'The residual score as it was when the decision was taken.'),
    col('decision', 'Decision', 'What was decided.'),
    col('rationale', 'Rationale', 'Why.'),
    col('decidedBy', 'Decided by', 'Who decided.'),
    col('decidedAt', 'Decided at', 'When (ISO 8601, UTC).'),
    col('expiresOn', 'Expires', 'When the acceptance lapses and must be decided again (ISO 8601, UTC), if it does.'),
    col('supersedes', 'Supersedes', 'When the earlier acceptance of the same risk that this one replaces was decided (ISO 8601, UTC), if any.'),
    col('approval', 'Management-body approval', 'The approval request (APR reference) this acceptance above the risk appetite carries out, if any.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({
      a: riskAcceptances, riskRef: risks.ref, riskTitle: risks.title, decider: decider.name, supersededAt: superseded.decidedAt, approval: managementApprovals.ref,
    })
      .from(riskAcceptances).innerJoin(risks, eq(risks.id, riskAcceptances.riskId)).innerJoin(decider, eq(decider.id, riskAcceptances.decidedBy))
      .leftJoin(superseded, eq(superseded.id, riskAcceptances.supersedes)).leftJoin(managementApprovals, eq(managementApprovals.id, riskAcceptances.approvalId))
      .where(pageWhere(riskAcceptances.id, after, period, { column: riskAcceptances.decidedAt })).orderBy(byId(riskAcceptances.id)).limit(limit);
    return rows.map(({ a, riskRef, riskTitle, decider: by, supersededAt, approval }) => ({
      cursor: a.id,
      row: {
        risk: riskRef, riskTitle, residualScoreAtDecision: a.residualScoreAtDecision, decision: a.decision, rationale: a.rationale,
        decidedBy: by, decidedAt: instant(a.decidedAt), expiresOn: instant(a.expiresOn), supersedes: instant(supersededAt), approval,
      },
    }));
  },
};

const poamArtefact: Artefact = {
  name: 'poam',
  title: 'POA&M',
  periodMeaning: 'when the item was opened',
  columns: [
    col('ref', 'Reference', 'The POA&M item reference, e.g. POAM-0001.'),
    col('weakness', 'Weakness', 'The weakness to remedy.'),
    col('source', 'Source', 'Where it came from: audit finding, risk or evidence gap.'),
    col('sourceRef', 'Source reference', 'The finding, risk or evidence request it came from, if any.'),
    col('owner', 'Owner', 'Who remedies it.'),
    col('dueOn', 'Due', 'The day it is due (ISO 8601), after any approved extension.'),
    col('originalDueOn', 'Original due', 'The day it was first due (ISO 8601), before any extension.'),
    col('status', 'Status', 'open, in progress, completed awaiting verification, completed or risk accepted.'),
    col('escalationLevel', 'Escalation level', 'How many times an overdue item has been escalated (0 = never).'),
    col('completedAt', 'Completed at', 'When an ISMS lead verified it completed (ISO 8601, UTC), if one did.'),
    col('createdAt', 'Opened at', 'When it was opened (ISO 8601, UTC).'),
    col('history', 'History', 'Extensions, closures and their verification, oldest first, separated by "; ".'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ item: poamItems, owner: people.name }).from(poamItems).innerJoin(people, eq(people.id, poamItems.ownerId))
      .where(pageWhere(poamItems.id, after, period, { column: poamItems.createdAt })).orderBy(byId(poamItems.id)).limit(limit);
    const histories = await poamHistories(db, rows.map((r) => r.item.id));
    return rows.map(({ item: i, owner: ownerName }) => ({
      cursor: i.id,
      row: {
        ref: i.ref, weakness: i.weakness, source: words(i.source), sourceRef: i.sourceRef, owner: ownerName, dueOn: i.dueOn,
        originalDueOn: i.originalDueOn, status: words(i.status), escalationLevel: i.escalationLevel, completedAt: instant(i.completedAt),
        createdAt: instant(i.createdAt), history: (histories.get(i.id) ?? []).join('; ') || null,
      },
    }));
  },
};

const poamMilestonesArtefact: Artefact = {
  name: 'poam-milestones',
  title: 'POA&M milestones',
  periodMeaning: 'the milestone\'s due day',
  columns: [
    col('item', 'POA&M item', 'The POA&M item the milestone belongs to.'),
    col('seq', 'Number', 'The milestone\'s place in the item\'s plan (1, 2, ...).'),
    col('description', 'Milestone', 'What is to be done.'),
    col('dueOn', 'Due', 'The day it is due (ISO 8601).'),
    col('doneAt', 'Done at', 'When it was done (ISO 8601, UTC), if it was.'),
    col('doneBy', 'Done by', 'Who marked it done, if anyone.'),
  ],
  async page(db, after, limit, period) {
    const doer = alias(people, 'doer');
    const rows = await db.select({ m: poamMilestones, item: poamItems.ref, doneBy: doer.name }).from(poamMilestones)
      .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId)).leftJoin(doer, eq(doer.id, poamMilestones.doneBy))
      .where(pageWhere(poamMilestones.id, after, period, { column: poamMilestones.dueOn, day: true })).orderBy(byId(poamMilestones.id)).limit(limit);
    return rows.map(({ m, item, doneBy }) => ({
      cursor: m.id,
      row: { item, seq: m.seq, description: m.description, dueOn: m.dueOn, doneAt: instant(m.doneAt), doneBy },
    }));
  },
};

const poamExtensionsArtefact: Artefact = {
  name: 'poam-extensions',
  title: 'POA&M extensions',
  periodMeaning: 'when the extension was requested',
  columns: [
    col('ref', 'Reference', 'The extension request reference, e.g. PEX-0001.'),
    col('item', 'POA&M item', 'The POA&M item whose due day was to move.'),
    col('previousDueOn', 'Previous due', 'The due day before the request (ISO 8601).'),
    col('requestedDueOn', 'Requested due', 'The due day asked for (ISO 8601).'),
    col('reason', 'Reason', 'Why more time was asked for.'),
    col('requestedBy', 'Requested by', 'Who asked.'),
    col('requestedAt', 'Requested at', 'When (ISO 8601, UTC).'),
    col('status', 'Status', 'requested, approved or rejected.'),
    col('decidedBy', 'Decided by', 'Who decided, once decided.'),
    col('decidedAt', 'Decided at', 'When it was decided (ISO 8601, UTC).'),
    col('decisionNote', 'Decision note', 'What the decider wrote, if anything.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ e: poamExtensions, item: poamItems.ref, requester: requester.name, decider: decider.name }).from(poamExtensions)
      .innerJoin(poamItems, eq(poamItems.id, poamExtensions.itemId)).innerJoin(requester, eq(requester.id, poamExtensions.requestedBy))
      .leftJoin(decider, eq(decider.id, poamExtensions.decidedBy))
      .where(pageWhere(poamExtensions.id, after, period, { column: poamExtensions.requestedAt })).orderBy(byId(poamExtensions.id)).limit(limit);
    return rows.map(({ e, item, requester: by, decider: decidedBy }) => ({
      cursor: e.id,
      row: {
        ref: e.ref, item, previousDueOn: e.previousDueOn, requestedDueOn: e.requestedDueOn, reason: e.reason, requestedBy: by,
        requestedAt: instant(e.requestedAt), status: e.status, decidedBy, decidedAt: instant(e.decidedAt), decisionNote: e.decisionNote,
      },
    }));
  },
};

const findingsArtefact: Artefact = {
  name: 'findings',
  title: 'Audit findings',
  periodMeaning: 'when the finding was raised',
  columns: [
    col('ref', 'Reference', 'The finding reference, e.g. AF-0001.'),
    col('type', 'Type', 'major nonconformity, minor nonconformity, observation or opportunity for improvement.'),
    col('clause', 'Clause', 'The standard clause or control concerned, if named.'),
    col('description', 'Description', 'What was found.'),
    col('rootCause', 'Root cause', 'Why it happened, once analysed.'),
    col('correctiveAction', 'Corrective action', 'What is done about it.'),
    col('status', 'Status', 'open or closed.'),
    col('raisedBy', 'Raised by', 'Who raised it, if recorded.'),
    col('createdAt', 'Raised at', 'When (ISO 8601, UTC).'),
  ],
  async page(db, after, limit, period) {
    const raiser = alias(people, 'raiser');
    const rows = await db.select({ f: auditFindings, raisedBy: raiser.name }).from(auditFindings).leftJoin(raiser, eq(raiser.id, auditFindings.raisedBy))
      .where(pageWhere(auditFindings.id, after, period, { column: auditFindings.createdAt })).orderBy(byId(auditFindings.id)).limit(limit);
    return rows.map(({ f, raisedBy }) => ({
      cursor: f.id,
      row: {
        ref: f.ref, type: FINDING_LABELS[f.type], clause: f.clause, description: f.description, rootCause: f.rootCause,
        correctiveAction: f.correctiveAction, status: words(f.status), raisedBy, createdAt: instant(f.createdAt),
      },
    }));
  },
};

const reviewsArtefact: Artefact = {
  name: 'management-reviews',
  title: 'Management reviews',
  periodMeaning: 'the day the review was held',
  columns: [
    col('ref', 'Reference', 'The review reference, e.g. MR-0001.'),
    col('heldOn', 'Held on', 'The day of the review (ISO 8601).'),
    col('attendees', 'Attendees', 'Who attended, with their roles as they were that day.'),
    col('inputs', 'Inputs', 'What the review considered.'),
    col('createdAt', 'Recorded at', 'When it was recorded (ISO 8601, UTC).'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select().from(managementReviews)
      .where(pageWhere(managementReviews.id, after, period, { column: managementReviews.heldOn, day: true })).orderBy(byId(managementReviews.id)).limit(limit);
    return rows.map((r) => ({
      cursor: r.id,
      row: {
        ref: r.ref, heldOn: r.heldOn,
        attendees: r.attendees.map((a) => `${a.name} (${a.roles.map((role) => ROLE_LABELS[role as Role] ?? words(role)).join(', ')})`).join('; '),
        inputs: r.inputs, createdAt: instant(r.createdAt),
      },
    }));
  },
};

const decisionsArtefact: Artefact = {
  name: 'review-decisions',
  title: 'Management review decisions',
  periodMeaning: 'the day the review was held',
  columns: [
    col('review', 'Review', 'The management review that took the decision.'),
    col('heldOn', 'Held on', 'The day of that review (ISO 8601).'),
    col('decision', 'Decision', 'What was decided.'),
    col('owner', 'Owner', 'Who carries it out, if named.'),
    col('dueOn', 'Due', 'The day it is due (ISO 8601), if set.'),
    col('status', 'Status', 'open or done.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ d: reviewDecisions, review: managementReviews.ref, heldOn: managementReviews.heldOn, owner: owner.name })
      .from(reviewDecisions).innerJoin(managementReviews, eq(managementReviews.id, reviewDecisions.reviewId)).leftJoin(owner, eq(owner.id, reviewDecisions.ownerId))
      .where(pageWhere(reviewDecisions.id, after, period, { column: managementReviews.heldOn, day: true })).orderBy(byId(reviewDecisions.id)).limit(limit);
    return rows.map(({ d, review, heldOn, owner: ownerName }) => ({
      cursor: d.id,
      row: { review, heldOn, decision: d.decision, owner: ownerName, dueOn: d.dueOn, status: words(d.status) },
    }));
  },
};

const evidenceArtefact: Artefact = {
  name: 'evidence',
  title: 'Evidence index',
  periodMeaning: 'when the revision was submitted',
  columns: [
    col('ref', 'Reference', 'The evidence revision reference, e.g. EV-0001.'),
    col('request', 'Request', 'The evidence request it answers (e.g. EVR-0001), if any.'),
    col('cycle', 'Cycle', 'The evidence period of that request, e.g. 2026-Q4.'),
    col('control', 'Control', 'The control it is evidence for (code and title).'),
    col('revision', 'Revision', 'The revision number for this request or control (1 = first submission).'),
    col('submittedBy', 'Submitted by', 'Who submitted it.'),
    col('submittedAt', 'Submitted at', 'When (ISO 8601, UTC).'),
    col('effectiveOn', 'Effective on', 'The day the evidence shows the control working (ISO 8601).'),
    col('text', 'Text', 'The evidence as text, if given.'),
    col('link', 'Link', 'A link to the evidence, if given.'),
    col('fileName', 'File name', 'The name of the attached file, if any.'),
    col('fileSize', 'File size (bytes)', 'Its size in bytes.'),
    col('fileSha256', 'File SHA-256', 'Its SHA-256, in hex: what proves a copy is the file submitted.'),
    col('channel', 'Channel', 'Where it was submitted: slack, teams, shell or import.'),
  ],
  async page(db, after, limit, period) {
    const submitter = alias(people, 'submitter');
    // Named columns only: the file bytes are never read for an index.
    const rows = await db.select({
      id: evidenceItems.id, ref: evidenceItems.ref, revision: evidenceItems.revision, submittedAt: evidenceItems.submittedAt,
      effectiveOn: evidenceItems.effectiveOn, text: evidenceItems.text, link: evidenceItems.link, fileName: evidenceItems.fileName,
      fileSize: evidenceItems.fileSize, fileSha256: evidenceItems.fileSha256, channel: evidenceItems.channel,
      request: evidenceRequests.ref, cycle: evidenceRequests.cycle, controlCode: controls.code, controlTitle: controls.title, submittedBy: submitter.name,
    }).from(evidenceItems).innerJoin(controls, eq(controls.id, evidenceItems.controlId)).innerJoin(submitter, eq(submitter.id, evidenceItems.submittedBy))
      .leftJoin(evidenceRequests, eq(evidenceRequests.id, evidenceItems.requestId))
      .where(pageWhere(evidenceItems.id, after, period, { column: evidenceItems.submittedAt })).orderBy(byId(evidenceItems.id)).limit(limit);
    return rows.map((e) => ({
      cursor: e.id,
      row: {
        ref: e.ref, request: e.request, cycle: e.cycle, control: `${e.controlCode} ${e.controlTitle}`, revision: e.revision,
        submittedBy: e.submittedBy, submittedAt: instant(e.submittedAt), effectiveOn: e.effectiveOn, text: e.text, link: e.link,
        fileName: e.fileName, fileSize: e.fileSize, fileSha256: e.fileSha256, channel: e.channel,
      },
    }));
  },
};

const acknowledgementsArtefact: Artefact = {
  name: 'policy-acknowledgements',
  title: 'Policy acknowledgements',
  periodMeaning: 'when the acknowledgement was given',
  columns: [
    col('policy', 'Policy', 'The policy reference, e.g. POL-0001.'),
    col('policyTitle', 'Policy title', 'Its title.'),
    col('version', 'Version', 'The version acknowledged, e.g. 2.0.'),
    col('person', 'Person', 'Who acknowledged it.'),
    col('email', 'Email', 'Their email address.'),
    col('contentSha256', 'Content SHA-256', 'The SHA-256 of the text they acknowledged.'),
    col('acknowledgedAt', 'Acknowledged at', 'When (ISO 8601, UTC).'),
    col('channel', 'Channel', 'Where: slack, teams, shell or import.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ a: policyAcknowledgements, policy: policies.ref, title: policies.title, version: policyVersions.version, person: people.name, email: people.email })
      .from(policyAcknowledgements).innerJoin(policyVersions, eq(policyVersions.id, policyAcknowledgements.policyVersionId))
      .innerJoin(policies, eq(policies.id, policyVersions.policyId)).innerJoin(people, eq(people.id, policyAcknowledgements.personId))
      .where(pageWhere(policyAcknowledgements.id, after, period, { column: policyAcknowledgements.acknowledgedAt })).orderBy(byId(policyAcknowledgements.id)).limit(limit);
    return rows.map(({ a, policy, title, version, person, email }) => ({
      cursor: a.id,
      row: { policy, policyTitle: title, version, person, email, contentSha256: a.contentSha256, acknowledgedAt: instant(a.acknowledgedAt), channel: a.channel },
    }));
  },
};

const trainingArtefact: Artefact = {
  name: 'training',
  title: 'Training attestations',
  periodMeaning: 'the day the training was completed',
  columns: [
    col('course', 'Course', 'The course code.'),
    col('courseTitle', 'Course title', 'Its title.'),
    col('legalBasis', 'Legal basis', 'The law that requires it, if any (e.g. NIS2 Art. 20(2)).'),
    col('person', 'Person', 'Who completed it.'),
    col('email', 'Email', 'Their email address.'),
    col('completedOn', 'Completed on', 'The day (ISO 8601).'),
    col('expiresOn', 'Expires on', 'The day it must be repeated by (ISO 8601).'),
    col('evidenceRef', 'Evidence', 'A certificate or other evidence reference, if given.'),
    col('attestedAt', 'Attested at', 'When it was recorded (ISO 8601, UTC).'),
    col('channel', 'Channel', 'Where: slack, teams, shell or import.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ a: trainingAttestations, course: trainingCourses, person: people.name, email: people.email }).from(trainingAttestations)
      .innerJoin(trainingCourses, eq(trainingCourses.id, trainingAttestations.courseId)).innerJoin(people, eq(people.id, trainingAttestations.personId))
      .where(pageWhere(trainingAttestations.id, after, period, { column: trainingAttestations.completedOn, day: true })).orderBy(byId(trainingAttestations.id)).limit(limit);
    return rows.map(({ a, course, person, email }) => ({
      cursor: a.id,
      row: {
        course: course.code, courseTitle: course.title, legalBasis: course.legalBasis, person, email, completedOn: a.completedOn,
        expiresOn: a.expiresOn, evidenceRef: a.evidenceRef, attestedAt: instant(a.attestedAt), channel: a.channel,
      },
    }));
  },
};

const suppliersArtefact: Artefact = {
  name: 'suppliers',
  title: 'Supplier register',
  periodMeaning: 'when the supplier was declared',
  columns: [
    col('ref', 'Reference', 'The supplier reference, e.g. SUP-0001.'),
    col('name', 'Name', 'The supplier.'),
    col('service', 'Service', 'What it provides.'),
    col('ictService', 'ICT service', 'yes when it provides an ICT service (DORA).'),
    col('supportsCriticalFunction', 'Critical or important function', 'yes when it supports a critical or important function (DORA Art. 28).'),
    col('dataAccess', 'Data access', 'What data it reaches: none, internal, personal, customer, or personal and customer.'),
    col('criticalityTier', 'Criticality', 'tier 1 (critical), tier 2 (important) or tier 3 (standard).'),
    col('contractRef', 'Contract', 'The contract reference, if recorded.'),
    col('contractStart', 'Contract start', 'The day the contract started (ISO 8601), if recorded.'),
    col('contractEnd', 'Contract end', 'The day the contract ends (ISO 8601), if recorded.'),
    col('exitStrategy', 'Exit strategy', 'yes when an exit strategy is documented.'),
    col('exitPlan', 'Exit plan', 'Where the exit strategy is documented, or its summary.'),
    col('lei', 'LEI', 'The legal entity identifier (ISO 17442), if recorded.'),
    col('country', 'Country', 'The country of its head office (ISO 3166-1 alpha-2), if recorded.'),
    col('ictServiceType', 'Type of ICT service', 'The type of ICT service of the DORA register of information (S01 to S19, with its name), if recorded.'),
    col('substitutability', 'Substitutability', 'easily substitutable, medium complexity to substitute, highly complex to substitute or not substitutable, if assessed.'),
    col('subcontractors', 'Subcontractors', 'The subcontractors that underpin the service, comma-separated.'),
    col('owner', 'Owner', 'Who manages the relationship, if named.'),
    col('lastReviewOn', 'Last review', 'The day of the last review (ISO 8601), if one was recorded.'),
    col('lastReviewOutcome', 'Last review outcome', 'continue, continue with actions or exit, with the note if one was given.'),
    col('nextReviewOn', 'Next review', 'The day of the next review (ISO 8601), if set.'),
    col('managementApproval', 'Management-body approval', 'For a tier-1 supplier, the management body\'s approval in words (approved by whom and when, awaiting, stale); empty for the others.'),
    col('status', 'Status', 'declared, approved, rejected...'),
    col('declaredBy', 'Declared by', 'Who declared it, if recorded.'),
    col('createdAt', 'Declared at', 'When (ISO 8601, UTC).'),
  ],
  async page(db, after, limit, period) {
    const declarer = alias(people, 'declarer');
    const rows = await db.select({ s: suppliers, owner: owner.name, declarer: declarer.name }).from(suppliers)
      .leftJoin(owner, eq(owner.id, suppliers.ownerId)).leftJoin(declarer, eq(declarer.id, suppliers.declaredBy))
      .where(pageWhere(suppliers.id, after, period, { column: suppliers.createdAt })).orderBy(byId(suppliers.id)).limit(limit);
    const out = [];
    for (const { s, owner: ownerName, declarer: by } of rows) {
      // Only tier-1 suppliers read their approval: one query each, for the few that need the board.
      const managementApproval = (await supplierApprovalInWords(db, s, 'UTC')) ?? null;
      out.push({
        cursor: s.id,
        row: {
          ref: s.ref, name: s.name, service: s.service, ictService: s.ictService, supportsCriticalFunction: s.supportsCriticalFunction,
          dataAccess: words(s.dataAccess), criticalityTier: TIER_LABELS[s.criticalityTier], contractRef: s.contractRef,
          contractStart: s.contractStart, contractEnd: s.contractEnd, exitStrategy: s.exitStrategy, exitPlan: s.exitPlan, lei: s.lei, country: s.country,
          ictServiceType: s.ictServiceType ? serviceTypeInWords(s.ictServiceType) : null,
          substitutability: s.substitutability ? SUBSTITUTABILITY_LABELS[s.substitutability] : null, subcontractors: s.subcontractors.join(', ') || null,
          owner: ownerName, lastReviewOn: s.lastReviewOn,
          lastReviewOutcome: s.lastReviewOutcome ? `${REVIEW_OUTCOME_LABELS[s.lastReviewOutcome]}${s.lastReviewNote ? `: ${s.lastReviewNote}` : ''}` : null,
          nextReviewOn: s.nextReviewOn, managementApproval,
          status: words(s.status), declaredBy: by, createdAt: instant(s.createdAt),
        },
      });
    }
    return out;
  },
};

const aiToolsArtefact: Artefact = {
  name: 'ai-tools',
  title: 'AI-tool register',
  periodMeaning: 'when the tool was declared',
  columns: [
    col('ref', 'Reference', 'The AI-tool reference, e.g. AI-0001.'),
    col('name', 'Name', 'The tool.'),
    col('vendor', 'Vendor', 'Who provides it, if known.'),
    col('purpose', 'Purpose', 'What it is used for.'),
    col('dataCategories', 'Data categories', 'What data goes into it: public, internal, confidential, personal, customer.'),
    col('userCount', 'Users', 'How many people use it, if known.'),
    col('status', 'Status', `${Object.values(AI_STATUS_LABELS).join(', ')}.`),
    col('conditions', 'Conditions', 'The conditions of use of an approved or restricted tool.'),
    col('reason', 'Reason', 'Why a prohibited tool may not be used.'),
    col('duplicateOf', 'Duplicate of', 'The entry a duplicate was closed in favour of.'),
    col('supplier', 'Supplier', 'The supplier that provides it (reference and name), if linked.'),
    col('iso42001Controls', 'ISO/IEC 42001 controls', 'The ISO/IEC 42001:2023 Annex A controls that apply to its use, comma-separated.'),
    col('decidedBy', 'Decided by', 'Who made the latest decision.'),
    col('decidedAt', 'Decided at', 'When (ISO 8601, UTC).'),
    col('managementApprovedBy', 'Management-body approval by', 'The management-body member who approved a tool that sees personal or customer data.'),
    col('managementApprovedAt', 'Management-body approval at', 'When (ISO 8601, UTC).'),
    col('declaredBy', 'Declared by', 'Who declared it.'),
    col('createdAt', 'Declared at', 'When (ISO 8601, UTC).'),
  ],
  async page(db, after, limit, period) {
    const board = alias(people, 'board');
    const rows = await db.select({ t: aiTools, declarer: people.name, decider: decider.name, board: board.name, supplierRef: suppliers.ref, supplierName: suppliers.name })
      .from(aiTools).innerJoin(people, eq(people.id, aiTools.declaredBy)).leftJoin(decider, eq(decider.id, aiTools.decidedBy))
      .leftJoin(board, eq(board.id, aiTools.managementApprovedBy)).leftJoin(suppliers, eq(suppliers.id, aiTools.supplierId))
      .where(pageWhere(aiTools.id, after, period, { column: aiTools.createdAt })).orderBy(byId(aiTools.id)).limit(limit);
    return rows.map(({ t, declarer: by, decider: decidedBy, board: approvedBy, supplierRef, supplierName }) => ({
      cursor: t.id,
      row: {
        ref: t.ref, name: t.name, vendor: t.vendor, purpose: t.purpose, dataCategories: t.dataCategories.join(', '), userCount: t.userCount,
        status: AI_STATUS_LABELS[t.status] ?? words(t.status), conditions: t.conditions, reason: t.reason, duplicateOf: t.duplicateOf,
        supplier: supplierRef ? `${supplierRef} ${supplierName}` : null, iso42001Controls: t.iso42001Controls.join(', ') || null,
        decidedBy, decidedAt: instant(t.decidedAt), managementApprovedBy: approvedBy, managementApprovedAt: instant(t.managementApprovedAt),
        declaredBy: by, createdAt: instant(t.createdAt),
      },
    }));
  },
};

const scopeStatementsArtefact: Artefact = {
  name: 'scope-statements',
  title: 'Scope statement versions',
  periodMeaning: 'when the version was written',
  columns: [
    col('version', 'Version', 'The version number (the highest is in force).'),
    col('text', 'Scope statement', 'The statement.'),
    col('approvedBy', 'Approved by', 'Who approved it, once approved.'),
    col('approvedAt', 'Approved at', 'When (ISO 8601, UTC).'),
    col('createdAt', 'Written at', 'When the version was written (ISO 8601, UTC).'),
  ],
  async page(db, after, limit, period) {
    const approver = alias(people, 'approver');
    const rows = await db.select({ s: scopeStatements, approver: approver.name }).from(scopeStatements).leftJoin(approver, eq(approver.id, scopeStatements.approvedBy))
      .where(pageWhere(scopeStatements.id, after, period, { column: scopeStatements.createdAt })).orderBy(byId(scopeStatements.id)).limit(limit);
    return rows.map(({ s, approver: by }) => ({
      cursor: s.id,
      row: { version: s.version, text: s.text, approvedBy: by, approvedAt: instant(s.approvedAt), createdAt: instant(s.createdAt) },
    }));
  },
};

const scopeChangesArtefact: Artefact = {
  name: 'scope-changes',
  title: 'Scope-change log',
  periodMeaning: 'when the change was declared',
  columns: [
    col('ref', 'Reference', 'The scope change reference, e.g. SC-0001.'),
    col('kind', 'Kind', 'new system, retired system, new supplier, new AI use, new geography or new regulatory regime.'),
    col('subject', 'Subject', 'What changed.'),
    col('description', 'Description', 'More about it, if given.'),
    col('subjectRef', 'Register entry', 'The supplier or AI tool it is about, if any.'),
    col('declaredBy', 'Declared by', 'Who declared it.'),
    col('declaredAt', 'Declared at', 'When (ISO 8601, UTC).'),
    col('status', 'Status', 'proposed, accepted, rejected or ratified.'),
    col('decidedBy', 'Decided by', 'Who decided, once decided.'),
    col('decidedAt', 'Decided at', 'When (ISO 8601, UTC).'),
    col('rationale', 'Rationale', 'Why, as the decider wrote it.'),
  ],
  async page(db, after, limit, period) {
    const declarer = alias(people, 'declarer');
    const rows = await db.select({ c: scopeChanges, declarer: declarer.name, decider: decider.name }).from(scopeChanges)
      .innerJoin(declarer, eq(declarer.id, scopeChanges.declaredBy)).leftJoin(decider, eq(decider.id, scopeChanges.decidedBy))
      .where(pageWhere(scopeChanges.id, after, period, { column: scopeChanges.declaredAt })).orderBy(byId(scopeChanges.id)).limit(limit);
    return rows.map(({ c, declarer: by, decider: decidedBy }) => ({
      cursor: c.id,
      row: {
        ref: c.ref, kind: KIND_LABELS[c.kind], subject: c.subject, description: c.description, subjectRef: c.subjectRef, declaredBy: by,
        declaredAt: instant(c.declaredAt), status: c.status, decidedBy, decidedAt: instant(c.decidedAt), rationale: c.rationale,
      },
    }));
  },
};

const assetsArtefact: Artefact = {
  name: 'assets',
  title: 'Assets',
  periodMeaning: 'when the asset was recorded',
  columns: [
    col('ref', 'Reference', 'The asset reference, e.g. AST-0001.'),
    col('name', 'Name', 'The asset.'),
    col('description', 'Description', 'More about it, if given.'),
    col('owner', 'Owner', 'The asset owner, if named.'),
    col('classification', 'Classification', 'Its information classification, e.g. internal or confidential.'),
    col('protectionRequirement', 'Protection requirement', 'normal, high or very high.'),
    col('inScope', 'In scope', 'yes when it is inside the ISMS scope.'),
    col('createdAt', 'Recorded at', 'When (ISO 8601, UTC).'),
    col('retiredAt', 'Retired at', 'When it was retired (ISO 8601, UTC); empty while in use. Retired assets are kept, never deleted.'),
    col('retiredReason', 'Retirement reason', 'Why it was retired.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select({ a: assets, owner: owner.name }).from(assets).leftJoin(owner, eq(owner.id, assets.ownerId))
      .where(pageWhere(assets.id, after, period, { column: assets.createdAt })).orderBy(byId(assets.id)).limit(limit);
    return rows.map(({ a, owner: ownerName }) => ({
      cursor: a.id,
      row: {
        ref: a.ref, name: a.name, description: a.description, owner: ownerName, classification: words(a.classification),
        protectionRequirement: words(a.protectionRequirement), inScope: a.inScope, createdAt: instant(a.createdAt),
        retiredAt: instant(a.retiredAt), retiredReason: a.retiredReason,
      },
    }));
  },
};

const partiesArtefact: Artefact = {
  name: 'interested-parties',
  title: 'Interested parties',
  periodMeaning: 'when the party was recorded',
  columns: [
    col('name', 'Name', 'The interested party (ISO/IEC 27001 clause 4.2).'),
    col('kind', 'Kind', 'What kind of party, e.g. regulator or customer.'),
    col('needs', 'Needs and expectations', 'What it requires of the ISMS.'),
    col('reviewedOn', 'Reviewed on', 'The day its needs were last reviewed (ISO 8601).'),
    col('createdAt', 'Recorded at', 'When (ISO 8601, UTC).'),
    col('retiredAt', 'Retired at', 'When it was retired (ISO 8601, UTC); empty while it is an interested party. Retired parties are kept, never deleted.'),
    col('retiredReason', 'Retirement reason', 'Why it was retired.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select().from(interestedParties)
      .where(pageWhere(interestedParties.id, after, period, { column: interestedParties.createdAt })).orderBy(byId(interestedParties.id)).limit(limit);
    return rows.map((p) => ({
      cursor: p.id,
      row: {
        name: p.name, kind: p.kind, needs: p.needs, reviewedOn: p.reviewedOn, createdAt: instant(p.createdAt),
        retiredAt: instant(p.retiredAt), retiredReason: p.retiredReason,
      },
    }));
  },
};

const auditTrailArtefact: Artefact = {
  name: 'audit-trail',
  title: 'Audit trail',
  periodMeaning: 'when the event was written',
  columns: [
    col('seq', 'Event number', 'Its place in the chain (1, 2, ...).'),
    col('at', 'At', 'When it was written (ISO 8601, UTC).'),
    col('actor', 'Actor', 'Who acted, and through which channel.'),
    col('action', 'Action', 'What was done, e.g. accept risk.'),
    col('entity', 'Entity', 'The kind of register entry.'),
    col('entityRef', 'Entry', 'The entry\'s reference.'),
    col('before', 'Before', 'The entry before the change, as JSON.'),
    col('after', 'After', 'The entry after the change, as JSON.'),
    col('prevHash', 'Previous hash', 'The SHA-256 of the event before it.'),
    col('hash', 'Hash', 'This event\'s SHA-256, over its content and the previous hash.'),
  ],
  async page(db, after, limit, period) {
    const rows = await db.select().from(auditEvents)
      .where(pageWhere(auditEvents.seq, after, period, { column: auditEvents.at })).orderBy(byId(auditEvents.seq)).limit(limit);
    return rows.map((e) => ({
      cursor: e.seq,
      row: {
        seq: e.seq, at: instant(e.at), actor: e.actorLabel, action: words(e.action), entity: words(e.entity), entityRef: e.entityRef,
        before: e.before == null ? null : JSON.stringify(e.before), after: e.after == null ? null : JSON.stringify(e.after),
        prevHash: e.prevHash, hash: e.hash,
      },
    }));
  },
};

/** Every artefact, in the order a workbook of them all holds its sheets. */
export const ARTEFACTS: readonly Artefact[] = [
  risksArtefact, riskAcceptancesArtefact, poamArtefact, poamMilestonesArtefact, poamExtensionsArtefact, findingsArtefact, reviewsArtefact,
  decisionsArtefact, evidenceArtefact, acknowledgementsArtefact, trainingArtefact, suppliersArtefact, aiToolsArtefact, scopeStatementsArtefact,
  scopeChangesArtefact, assetsArtefact, partiesArtefact, auditTrailArtefact,
  // The statements of applicability, one per framework, derived through the control mappings.
  ...SOA_ARTEFACTS,
];

export const ARTEFACT_NAMES = ARTEFACTS.map((a) => a.name);

export const findArtefact = (name: string): Artefact | undefined => ARTEFACTS.find((a) => a.name === name.trim().toLowerCase());

/** Exports that are one document each (OSCAL), JSON only and not part of "export all". */
export const DOCUMENTS: readonly DocumentExport[] = OSCAL_DOCUMENTS;
export const DOCUMENT_NAMES = DOCUMENTS.map((d) => d.name);
export const findDocument = (name: string): DocumentExport | undefined => DOCUMENTS.find((d) => d.name === name);
