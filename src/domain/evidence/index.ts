import type { CommandSpec } from '../../core/router.js';
import { myEvidenceCommand } from './list.js';
import { submitEvidenceCommand } from './submit.js';
import { requestEvidenceCommand } from './request.js';
import { showEvidenceCommand } from './show.js';
import { acceptEvidenceCommand, evidenceReviewerCommand, returnEvidenceCommand, reviewEvidenceCommand } from './review.js';

export { submitEvidence, type SubmitEvidenceInput, type SubmittedEvidence } from './submit.js';
export { requestEvidence } from './request.js';

export const evidenceCommands: CommandSpec[] = [
  myEvidenceCommand, showEvidenceCommand, submitEvidenceCommand, requestEvidenceCommand,
  reviewEvidenceCommand, acceptEvidenceCommand, returnEvidenceCommand, evidenceReviewerCommand,
];
