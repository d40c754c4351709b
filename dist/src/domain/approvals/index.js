import { approvalsCommand } from './list.js';
import { approveCommand, rejectCommand } from './decide.js';
export const approvalCommands = [approvalsCommand, approveCommand, rejectCommand];
//# sourceMappingURL=index.js.map