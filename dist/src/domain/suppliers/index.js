import { supplierCommand } from './update.js';
import { supplierReviewCommand } from './review.js';
export { supplierApproval, settleSupplierApproval } from './approval.js';
export { supplierFacts } from './details.js';
export const supplierCommands = [supplierCommand, supplierReviewCommand];
//# sourceMappingURL=index.js.map