import type { CommandSpec } from '../../core/router.js';
import { coverageCommand, soaCommand } from './commands.js';
import { soaSubmitCommand } from './approval.js';

export const soaCommands: CommandSpec[] = [soaCommand, soaSubmitCommand, coverageCommand];
