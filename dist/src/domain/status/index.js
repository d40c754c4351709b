import { statusCommand } from './status.js';
export const statusCommands = [statusCommand];
//# sourceMappingURL=index.js.map