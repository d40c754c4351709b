import { exportCommand } from './command.js';
import { exportBundleCommand } from './bundle-command.js';
export const exportCommands = [exportCommand, exportBundleCommand];
//# sourceMappingURL=index.js.map