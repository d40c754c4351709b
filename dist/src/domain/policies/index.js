import { policiesCommand, acknowledgeCommand, policyTextCommand } from './ack.js';
import { addPolicyCommand } from './add.js';
import { publishPolicyCommand } from './publish.js';
import { startCampaignCommand, campaignStatusCommand } from './campaign.js';
export { acknowledgePolicy } from './ack.js';
export { publishPolicy } from './publish.js';
export { addPolicy } from './add.js';
export { startCampaign, campaignStatus } from './campaign.js';
export const policyCommands = [
    policiesCommand, acknowledgeCommand, policyTextCommand, addPolicyCommand, publishPolicyCommand, startCampaignCommand, campaignStatusCommand,
];
//# sourceMappingURL=index.js.map