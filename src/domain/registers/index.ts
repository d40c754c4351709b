import type { CommandSpec } from '../../core/router.js';
import { registerCommand } from './registers.js';
import { auditVerifyCommand } from './audit-verify.js';

export const registerCommands: CommandSpec[] = [registerCommand, auditVerifyCommand];
