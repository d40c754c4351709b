import type { CommandSpec } from '../../core/router.js';
import { triageListCommand } from './list.js';
import { triageAcceptCommand, triageRejectCommand } from './decide.js';

export const triageCommands: CommandSpec[] = [triageListCommand, triageAcceptCommand, triageRejectCommand];
