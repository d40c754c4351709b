import { coverageCommand, soaCommand } from './commands.js';
import { soaSubmitCommand } from './approval.js';
export const soaCommands = [soaCommand, soaSubmitCommand, coverageCommand];
//# sourceMappingURL=index.js.map