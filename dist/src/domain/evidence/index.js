import { myEvidenceCommand } from './list.js';
import { submitEvidenceCommand } from './submit.js';
import { requestEvidenceCommand } from './request.js';
import { showEvidenceCommand } from './show.js';
import { acceptEvidenceCommand, evidenceReviewerCommand, returnEvidenceCommand, reviewEvidenceCommand } from './review.js';
export { submitEvidence } from './submit.js';
export { requestEvidence } from './request.js';
export const evidenceCommands = [
    myEvidenceCommand, showEvidenceCommand, submitEvidenceCommand, requestEvidenceCommand,
    reviewEvidenceCommand, acceptEvidenceCommand, returnEvidenceCommand, evidenceReviewerCommand,
];
//# sourceMappingURL=index.js.map