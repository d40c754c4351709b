import { trainingCommand } from './list.js';
import { attestCommand } from './attest.js';
import { trainingReportCommand } from './report.js';
export const trainingCommands = [trainingCommand, attestCommand, trainingReportCommand];
//# sourceMappingURL=index.js.map