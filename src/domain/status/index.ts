import type { CommandSpec } from '../../core/router.js';

export const statusCommands: CommandSpec[] = [];
