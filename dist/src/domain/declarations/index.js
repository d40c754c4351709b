import { declareAiCommand } from './ai.js';
import { aiDetailsCommand } from './ai-details.js';
import { aiApproveCommand, aiDuplicateCommand, aiProhibitCommand, aiRestrictCommand } from './ai-decide.js';
import { declareSupplierCommand } from './supplier.js';
import { scopeAddCommand, scopeRetireCommand } from './scope.js';
import { scopeStatementCommand } from './scope-approval.js';
import { supplierCommands } from '../suppliers/index.js';
export const declarationCommands = [
    declareAiCommand,
    aiDetailsCommand,
    aiApproveCommand,
    aiRestrictCommand,
    aiProhibitCommand,
    aiDuplicateCommand,
    declareSupplierCommand,
    ...supplierCommands,
    scopeAddCommand,
    scopeRetireCommand,
    scopeStatementCommand,
];
//# sourceMappingURL=index.js.map