import type { CommandSpec } from '../../core/router.js';
import { declareAiCommand } from './ai.js';

export const declarationCommands: CommandSpec[] = [declareAiCommand];
