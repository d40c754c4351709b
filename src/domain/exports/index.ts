import type { CommandSpec } from '../../core/router.js';
import { exportCommand } from './command.js';

export const exportCommands: CommandSpec[] = [exportCommand];
