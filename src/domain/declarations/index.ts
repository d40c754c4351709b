import type { CommandSpec } from '../../core/router.js';
import { declareAiCommand } from './ai.js';
import { aiDetailsCommand } from './ai-details.js';
import { declareSupplierCommand } from './supplier.js';
import { scopeAddCommand, scopeRetireCommand } from './scope.js';

export const declarationCommands: CommandSpec[] = [
  declareAiCommand,
  aiDetailsCommand,
  declareSupplierCommand,
  scopeAddCommand,
  scopeRetireCommand,
];
