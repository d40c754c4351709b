import { z } from 'zod';
import { commandLine, defineCommand } from '../../core/router.js';
import { reply, text, type Block, type ListItem } from '../../core/reply.js';
import { audienceLabel, describeState, MANAGEMENT_BODY_BASIS, obligationsOf, type Obligation } from './obligations.js';
import { readersDay } from '../../core/time.js';

export function obligationItem(o: Obligation): ListItem {
  const basis = o.course.audienceRole === 'management_body' ? MANAGEMENT_BODY_BASIS : o.course.legalBasis;
  return {
    title: `${o.course.code} — ${o.course.title}`,
    detail: describeState(o),
    fields: [
      ...(o.latest ? [{ label: 'Last completed', value: o.latest.completedOn }] : []),
      { label: 'For', value: audienceLabel(o.course) },
      ...(basis ? [{ label: 'Legal basis', value: basis }] : []),
    ],
    buttons: [{ label: 'Attest', command: `attest ${o.course.code}`, style: o.state === 'valid' ? undefined : 'primary' }],
  };
}

export const trainingCommand = defineCommand({
  name: 'training',
  readOnly: true,
  summary: 'Your training obligations and where you stand on each',
  examples: ['training'],
  schema: z.object({}),
  async run(ctx) {
    const mine = await obligationsOf(ctx.db, ctx.actor.id, readersDay(ctx.now, ctx.actor.timezone));
    const open = mine.filter((o) => o.state !== 'valid').length;
    const blocks: Block[] = [
      text(mine.length === 0
        ? 'No training course applies to you at the moment.'
        : open === 0
          ? `You are up to date on ${mine.length === 1 ? 'the one course that applies' : `all ${mine.length} courses that apply`} to you.`
          : `${open} of your ${mine.length} course${mine.length === 1 ? '' : 's'} need${open === 1 ? 's' : ''} attention.`),
    ];
    if (mine.length) {
      blocks.push({ type: 'list', title: 'Your training', items: mine.map(obligationItem) });
      blocks.push(text(`After completing a course, press "Attest" or type "${commandLine(ctx.channel, 'attest <code> completed on YYYY-MM-DD')}".`));
    }
    return reply(...blocks);
  },
});
