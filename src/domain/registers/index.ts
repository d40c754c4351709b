import type { CommandSpec } from '../../core/router.js';
import { registerCommand } from './registers.js';
import { auditVerifyCommand } from './audit-verify.js';
import { assetAddCommand, assetRetireCommand, assetsCommand } from './assets.js';
import { partiesCommand, partyAddCommand, partyRetireCommand } from './parties.js';
import { personCommand, personUnlinkCommand } from './people.js';

export const registerCommands: CommandSpec[] = [
  registerCommand, assetsCommand, assetAddCommand, assetRetireCommand, partiesCommand, partyAddCommand, partyRetireCommand, personCommand, personUnlinkCommand, auditVerifyCommand,
];
