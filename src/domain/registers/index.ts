import type { CommandSpec } from '../../core/router.js';
import { registerCommand } from './registers.js';

export const registerCommands: CommandSpec[] = [registerCommand];
