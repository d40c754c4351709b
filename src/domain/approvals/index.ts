import type { CommandSpec } from '../../core/router.js';
import { approvalsCommand } from './list.js';
import { approveCommand, rejectCommand } from './decide.js';

export const approvalCommands: CommandSpec[] = [approvalsCommand, approveCommand, rejectCommand];
