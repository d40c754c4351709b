import type { CommandSpec } from '../../core/router.js';
import { risksCommand } from './list.js';
import { riskAcceptCommand } from './accept.js';

export const riskCommands: CommandSpec[] = [risksCommand, riskAcceptCommand];
