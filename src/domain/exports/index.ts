import type { CommandSpec } from '../../core/router.js';
import { exportCommand } from './command.js';
import { exportBundleCommand } from './bundle-command.js';

export const exportCommands: CommandSpec[] = [exportCommand, exportBundleCommand];
