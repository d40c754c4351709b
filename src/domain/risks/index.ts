import type { CommandSpec } from '../../core/router.js';
import { risksCommand } from './list.js';
import { riskAcceptCommand } from './accept.js';
import { riskAddCommand, riskUpdateCommand } from './assess.js';
import { riskAppetiteCommand } from './appetite.js';
import { threatsCommand } from './threats.js';

export const riskCommands: CommandSpec[] = [risksCommand, riskAddCommand, riskUpdateCommand, riskAcceptCommand, riskAppetiteCommand, threatsCommand];
