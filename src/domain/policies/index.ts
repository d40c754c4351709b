import type { CommandSpec } from '../../core/router.js';
import { policiesCommand, acknowledgeCommand } from './ack.js';
import { publishPolicyCommand } from './publish.js';
import { startCampaignCommand, campaignStatusCommand } from './campaign.js';

export { acknowledgePolicy } from './ack.js';
export { publishPolicy } from './publish.js';
export { startCampaign, campaignStatus } from './campaign.js';

export const policyCommands: CommandSpec[] = [policiesCommand, acknowledgeCommand, publishPolicyCommand, startCampaignCommand, campaignStatusCommand];
