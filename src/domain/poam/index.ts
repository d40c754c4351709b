import type { CommandSpec } from '../../core/router.js';

export const poamCommands: CommandSpec[] = [];
