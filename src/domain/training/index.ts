import type { CommandSpec } from '../../core/router.js';
import { trainingCommand } from './list.js';
import { attestCommand } from './attest.js';
import { trainingReportCommand } from './report.js';

export const trainingCommands: CommandSpec[] = [trainingCommand, attestCommand, trainingReportCommand];
