import type { CommandSpec } from '../../core/router.js';
import { coverageCommand, soaCommand } from './commands.js';

export const soaCommands: CommandSpec[] = [soaCommand, coverageCommand];
