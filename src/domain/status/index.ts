import type { CommandSpec } from '../../core/router.js';
import { statusCommand } from './status.js';

export const statusCommands: CommandSpec[] = [statusCommand];
