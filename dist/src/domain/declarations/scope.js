import { z } from 'zod';
import { and, eq, sql } from 'drizzle-orm';
import { assets, scopeChanges } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { nextRef } from '../../core/refs.js';
import { conflict } from '../../core/errors.js';
import { reply, text, fields } from '../../core/reply.js';
import { notifyTriage } from './triage-notify.js';
const systemName = z.string().trim().min(1, 'name the system, e.g. "Customer portal"').max(200);
export const scopeAddInput = z.object({
    system: systemName.describe('The system to bring into the ISMS scope'),
    description: z.string().trim().max(2000).optional().describe('What it is, who uses it, where it runs'),
});
export const scopeRetireInput = z.object({
    system: systemName.describe('The system, as named in the asset register'),
    reason: z.string().trim().max(2000).optional().describe('Why it leaves the scope'),
});
/** Asset names are matched regardless of case: "crm" and "CRM" are the same system. */
export async function findAssetByName(db, name) {
    const [asset] = await db.select().from(assets).where(sql `lower(${assets.name}) = lower(${name})`);
    return asset;
}
async function refuseIfAlreadyWaiting(ctx, kind, system) {
    const [waiting] = await ctx.db.select().from(scopeChanges).where(and(eq(scopeChanges.kind, kind), eq(scopeChanges.status, 'proposed'), sql `lower(${scopeChanges.subject}) = lower(${system})`));
    if (waiting) {
        throw conflict(`${waiting.subject} is already waiting for triage as ${waiting.ref}.`, 'Nothing new was recorded.');
    }
}
async function proposeScopeChange(ctx, kind, system, description, subjectRef) {
    const ref = await nextRef(ctx.db, 'SC');
    // The same proposal made at the same moment meets the unique index of waiting proposals: it waits
    // for the first one to commit and then finds it, so nothing of this one is kept.
    const [change] = await ctx.db.insert(scopeChanges).values({
        ref, kind, subject: system, description, subjectRef, declaredBy: ctx.actor.id, declaredAt: ctx.now,
    }).onConflictDoNothing().returning();
    if (!change) {
        await refuseIfAlreadyWaiting(ctx, kind, system);
        throw new Error(`The scope changes refused ${ref} (${system}) but hold no waiting proposal for it.`);
    }
    await ctx.audit({ action: 'propose', entity: 'scope_change', entityRef: ref, after: change });
    return change;
}
/** Proposes bringing a system into the ISMS scope; the asset is created when the ISMS lead accepts. */
export async function proposeScopeAdd(ctx, input) {
    const asset = await findAssetByName(ctx.db, input.system);
    if (asset?.retiredAt) {
        throw conflict(`${asset.name} (${asset.ref}) was retired from the asset register, so it cannot come back into scope.`, 'Nothing new was recorded. Give the system a new name if it is a new system.');
    }
    if (asset?.inScope) {
        throw conflict(`${asset.name} is already in scope as ${asset.ref}.`, 'Nothing new was recorded. "/isms register scope" shows the scope changes.');
    }
    await refuseIfAlreadyWaiting(ctx, 'new_system', input.system);
    const change = await proposeScopeChange(ctx, 'new_system', input.system, input.description, asset?.ref);
    await notifyTriage(ctx, change.ref, `${ctx.actor.name} proposes adding the system ${input.system} to the scope (${change.ref}).`);
    return { change, asset };
}
/** Proposes taking a system out of scope; a system not in the asset register may still be retired. */
export async function proposeScopeRetire(ctx, input) {
    const asset = await findAssetByName(ctx.db, input.system);
    if (asset && !asset.inScope) {
        throw conflict(`${asset.name} (${asset.ref}) is already out of scope.`, 'Nothing new was recorded.');
    }
    await refuseIfAlreadyWaiting(ctx, 'retired_system', input.system);
    const change = await proposeScopeChange(ctx, 'retired_system', asset?.name ?? input.system, input.reason, asset?.ref);
    await notifyTriage(ctx, change.ref, `${ctx.actor.name} proposes retiring the system ${change.subject} from the scope (${change.ref}).`);
    return { change, asset };
}
export const scopeAddCommand = defineCommand({
    name: 'scope add',
    summary: 'Propose a new system for the ISMS scope',
    examples: ['scope add "Customer portal" "public web app for customers, hosted on AWS"'],
    roles: ['asset_owner', 'isms_lead'],
    schema: scopeAddInput,
    args: {
        system: { positional: true, placeholder: 'e.g. Customer portal' },
        description: { positional: 'rest', label: 'What is it?' },
    },
    form: { title: 'Add a system to the scope', submitLabel: 'Propose' },
    async run(ctx, input) {
        const { change } = await proposeScopeAdd(ctx, input);
        return reply(text(`Proposed adding ${change.subject} to the scope as ${change.ref}. The ISMS lead will review it; `
            + 'on acceptance it enters the asset register with you as its owner.', 'success'), fields([
            { label: 'Reference', value: change.ref },
            { label: 'System', value: change.subject },
            ...(change.description ? [{ label: 'Description', value: change.description }] : []),
            { label: 'Status', value: change.status },
        ]));
    },
});
export const scopeRetireCommand = defineCommand({
    name: 'scope retire',
    summary: 'Propose taking a system out of the ISMS scope',
    examples: ['scope retire "Legacy CRM" "replaced by the new CRM in October"'],
    roles: ['asset_owner', 'isms_lead'],
    schema: scopeRetireInput,
    args: {
        system: { positional: true },
        reason: { positional: 'rest', label: 'Why is it retired?' },
    },
    form: { title: 'Retire a system from the scope', submitLabel: 'Propose' },
    async run(ctx, input) {
        const { change, asset } = await proposeScopeRetire(ctx, input);
        const blocks = [
            text(`Proposed retiring ${change.subject} from the scope as ${change.ref}. The ISMS lead will review it.`, 'success'),
            fields([
                { label: 'Reference', value: change.ref },
                { label: 'System', value: asset ? `${asset.name} (${asset.ref})` : change.subject },
                ...(change.description ? [{ label: 'Reason', value: change.description }] : []),
                { label: 'Status', value: change.status },
            ]),
        ];
        if (!asset) {
            blocks.push(text(`Note: ${change.subject} is not in the asset register, so accepting this changes no asset. `
                + 'Check the spelling if you meant a registered system.', 'warning'));
        }
        return reply(...blocks);
    },
});
//# sourceMappingURL=scope.js.map