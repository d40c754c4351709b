import type { CommandSpec } from '../../core/router.js';
import { findingAddCommand } from './finding-add.js';
import { findingsCommand } from './finding-list.js';
import { findingCloseCommand } from './finding-close.js';
import { reviewCloseCommand, reviewDecideCommand, reviewDecisionCloseCommand, reviewRecordCommand } from './management-review.js';
import { reviewPackCommand, reviewPrepareCommand } from './review-pack.js';
import { reviewsCommand } from './review-list.js';
import { reviewNarrativeCommand } from './narrative.js';

export const reviewCommands: CommandSpec[] = [
  findingsCommand,
  findingAddCommand,
  findingCloseCommand,
  reviewsCommand,
  reviewPrepareCommand,
  reviewPackCommand,
  reviewNarrativeCommand,
  reviewRecordCommand,
  reviewDecideCommand,
  reviewDecisionCloseCommand,
  reviewCloseCommand,
];
