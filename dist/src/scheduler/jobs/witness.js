import { witnessChainHead } from '../../core/verify.js';
import { JobRun } from './run.js';
/** The scheduled witness: the chain head to the ISMS leads (and the witness file), by default daily. */
export const witnessAuditTrail = (db, now, settings) => db.transaction(async (tx) => {
    const run = new JobRun(tx, now, settings);
    const result = await witnessChainHead(tx, await run.leads(), settings.witnessFile, now);
    const summary = result.head ? { 'head witnessed': result.head.seq, messages: result.sentTo } : { 'empty trail': 1 };
    return summary;
});
//# sourceMappingURL=witness.js.map