import { z } from 'zod';
import { defineCommand } from '../../core/router.js';
import { verifyAuditChain } from '../../core/audit.js';
import { reply, text } from '../../core/reply.js';

/** The audit trail's hash chain checked from chat, for the ISMS lead and auditors. */
export const auditVerifyCommand = defineCommand({
  name: 'audit verify',
  aliases: ['verify audit'],
  summary: 'Check that no audit-trail event was changed or removed since it was written',
  examples: ['audit verify'],
  roles: ['isms_lead', 'auditor'],
  schema: z.object({}),
  async run(ctx) {
    const verdict = await verifyAuditChain(ctx.db);
    if (verdict.ok) return reply(text(`Audit trail intact: ${verdict.rows} events, each linked to the one before.`, 'success'));
    return reply(
      text(`Audit trail broken at event #${verdict.firstBadSeq}: ${verdict.reason}.`, 'error'),
      text('Events from there on cannot be trusted as recorded. Keep the database as it is and tell whoever investigates.'),
    );
  },
});
