import type { CommandSpec } from '../../core/router.js';
import { poamListCommand } from './list.js';
import { poamDoneCommand } from './done.js';
import { poamExtendCommand } from './extend.js';
import { poamApproveCommand, poamRejectCommand } from './decide.js';
import { poamReopenCommand, poamVerifyCommand } from './closure.js';

export const poamCommands: CommandSpec[] = [poamListCommand, poamDoneCommand, poamExtendCommand, poamApproveCommand, poamRejectCommand, poamVerifyCommand, poamReopenCommand];
