import { poamListCommand } from './list.js';
import { poamDoneCommand } from './done.js';
import { poamExtendCommand } from './extend.js';
import { poamApproveCommand, poamRejectCommand } from './decide.js';
export const poamCommands = [poamListCommand, poamDoneCommand, poamExtendCommand, poamApproveCommand, poamRejectCommand];
//# sourceMappingURL=index.js.map