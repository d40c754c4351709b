import { findingAddCommand } from './finding-add.js';
import { findingsCommand } from './finding-list.js';
import { findingCloseCommand } from './finding-close.js';
import { reviewCloseCommand, reviewDecideCommand, reviewDecisionCloseCommand, reviewRecordCommand } from './management-review.js';
import { reviewPackCommand, reviewPrepareCommand } from './review-pack.js';
import { reviewsCommand } from './review-list.js';
export const reviewCommands = [
    findingsCommand,
    findingAddCommand,
    findingCloseCommand,
    reviewsCommand,
    reviewPrepareCommand,
    reviewPackCommand,
    reviewRecordCommand,
    reviewDecideCommand,
    reviewDecisionCloseCommand,
    reviewCloseCommand,
];
//# sourceMappingURL=index.js.map