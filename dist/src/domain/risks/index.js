import { risksCommand } from './list.js';
import { riskAcceptCommand } from './accept.js';
export const riskCommands = [risksCommand, riskAcceptCommand];
//# sourceMappingURL=index.js.map