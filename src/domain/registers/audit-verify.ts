import { z } from 'zod';
import { defineCommand } from '../../core/router.js';
import { peopleWithRole } from '../../core/actor.js';
import { describeVerdict, verifyRegister, witnessChainHead } from '../../core/verify.js';
import { reply, text } from '../../core/reply.js';

/** The same check as "npm run isms -- verify", from chat, for the ISMS lead and auditors. */
export const auditVerifyCommand = defineCommand({
  name: 'audit verify',
  readOnly: true,
  aliases: ['verify audit'],
  summary: 'Check the register for tampering: the audit trail, every audited row and every evidence file',
  examples: ['audit verify'],
  roles: ['isms_lead', 'auditor'],
  schema: z.object({}),
  async run(ctx) {
    const verdict = await verifyRegister(ctx.db);
    if (verdict.ok) return reply(text(describeVerdict(verdict), 'success'));
    return reply(
      text(describeVerdict(verdict), 'error'),
      text('Keep the database as it is and tell whoever investigates; compare with a witnessed chain head ("npm run isms -- verify --witness …").'),
    );
  },
});

/** The chain head sent to the ISMS leads now, as the daily witness job does; the file is ISMS_WITNESS_FILE. */
export const auditWitnessCommand = (witnessFile: string | undefined) => defineCommand({
  name: 'audit witness',
  summary: "Send the audit trail's current head to the ISMS leads, to compare against later",
  examples: ['audit witness'],
  roles: ['isms_lead', 'auditor'],
  schema: z.object({}),
  async run(ctx) {
    const result = await witnessChainHead(ctx.db, await peopleWithRole(ctx.db, 'isms_lead'), witnessFile, ctx.now);
    if (!result.head) return reply(text('The audit trail is empty; there is no head to witness yet.'));
    const { seq, hash } = result.head;
    const where = [`${result.sentTo} ISMS lead${result.sentTo === 1 ? '' : 's'}`, ...(result.file ? ['the witness file'] : [])].join(' and ');
    return reply(text(`Witnessed the audit trail head: event #${seq}, hash ${hash}. Sent to ${where}.`, 'success'));
  },
});
