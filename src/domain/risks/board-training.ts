import type { CommandContext } from '../../core/router.js';
import { peopleWithRole } from '../../core/actor.js';
import { forbidden } from '../../core/errors.js';
import { readersDay } from '../../core/time.js';
import { describeState, MANAGEMENT_BODY_BASIS, obligationsOf } from '../training/obligations.js';

/**
 * Refuses a management-body member whose own cybersecurity training (NIS2 Art. 20(2), DORA Art. 5(4))
 * is not valid today: members decide on cybersecurity risk only while trained.
 */
export async function refuseUntrainedBoardMember(ctx: CommandContext, what: string): Promise<void> {
  const today = readersDay(ctx.now, ctx.actor.timezone);
  const courses = (await obligationsOf(ctx.db, ctx.actor.id, today)).filter((o) => o.course.audienceRole === 'management_body');
  const others = async () => {
    const trained: string[] = [];
    for (const member of await peopleWithRole(ctx.db, 'management_body')) {
      if (member.id === ctx.actor.id) continue;
      const own = (await obligationsOf(ctx.db, member.id, today)).filter((o) => o.course.audienceRole === 'management_body');
      if (own.length && own.every((o) => o.state === 'valid' || o.state === 'expiring')) trained.push(member.name);
    }
    return trained.length ? ` Or ask ${trained.join(' or ')}, whose training is valid.` : '';
  };
  if (courses.length === 0) {
    throw forbidden(`You cannot decide ${what}: no management-body training course is in the register, so your training under ${MANAGEMENT_BODY_BASIS} cannot be shown valid.`,
      'The ISMS lead adds the course (e.g. MB-CYBER) by import; attest it with "/isms attest <course code>", then decide.');
  }
  const lapsed = courses.filter((o) => o.state === 'due' || o.state === 'expired');
  if (lapsed.length) {
    throw forbidden(`You cannot decide ${what}: your management-body training is not valid today (${today}): `
      + `${lapsed.map((o) => `${o.course.code} ${describeState(o)}`).join('; ')}. Under ${MANAGEMENT_BODY_BASIS} members decide on cybersecurity risk only while trained.`,
    `Attest it with "/isms attest ${lapsed[0].course.code} completed on YYYY-MM-DD" once completed, then decide.${await others()}`);
  }
}
