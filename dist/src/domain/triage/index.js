import { triageListCommand } from './list.js';
import { triageAcceptCommand, triageRejectCommand } from './decide.js';
export const triageCommands = [triageListCommand, triageAcceptCommand, triageRejectCommand];
//# sourceMappingURL=index.js.map