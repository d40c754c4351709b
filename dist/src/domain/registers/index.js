import { registerCommand } from './registers.js';
import { auditVerifyCommand } from './audit-verify.js';
import { assetAddCommand, assetRetireCommand, assetsCommand } from './assets.js';
import { partiesCommand, partyAddCommand, partyRetireCommand } from './parties.js';
export const registerCommands = [
    registerCommand, assetsCommand, assetAddCommand, assetRetireCommand, partiesCommand, partyAddCommand, partyRetireCommand, auditVerifyCommand,
];
//# sourceMappingURL=index.js.map