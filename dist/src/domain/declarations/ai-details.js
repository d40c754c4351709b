import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { aiTools, suppliers } from '../../db/schema/index.js';
import { commaList, defineCommand } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { conflict, forbidden, notFound } from '../../core/errors.js';
import { readRequirements } from '../../refdata/index.js';
import { refreshApprovals } from '../approvals/request.js';
import { aiToolApproval } from './ai-approval.js';
import { registerRef } from '../../core/validate.js';
import { reply, text, fields, formBlock } from '../../core/reply.js';
import { AI_DETAIL_ARGS, declareAiInput } from './ai.js';
import { aiStatusInWords } from './ai-status.js';
export const aiDetailsInput = z.object({
    ref: registerRef('AI').describe('The AI declaration to complete, e.g. AI-0001'),
    vendor: declareAiInput.shape.vendor,
    purpose: declareAiInput.shape.purpose,
    data: declareAiInput.shape.data,
    users: declareAiInput.shape.users,
    supplier: registerRef('SUP').optional().describe('The supplier that provides it, from the supplier register, e.g. SUP-0001'),
    controls: commaList(z.string().trim().toUpperCase()).superRefine((ids, ctx) => {
        const unknown = ids.filter((id) => !iso42001AnnexA().includes(id));
        if (unknown.length) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} no ISO/IEC 42001:2023 Annex A control; `
                    + `the controls run from ${iso42001AnnexA()[0]} to ${iso42001AnnexA().at(-1)}, e.g. A.6.2.2` });
        }
    }).optional().describe('The ISO/IEC 42001:2023 Annex A controls that apply to its use, comma-separated, e.g. A.6.2.2,A.8.2'),
});
const DETAIL_NAMES = ['vendor', 'purpose', 'data', 'users', 'supplier', 'controls'];
let annexA;
/** The Annex A control ids of ISO/IEC 42001:2023 as the shipped framework data lists them (reference/iso). */
export function iso42001AnnexA() {
    annexA ??= readRequirements().filter((r) => r.framework === 'ISO42001:2023' && r.reference.startsWith('A.')).map((r) => r.reference);
    return annexA;
}
/** The supplier an AI tool is linked to: one in the register, not rejected. */
async function supplierToLink(ctx, ref) {
    const [supplier] = await ctx.db.select().from(suppliers).where(eq(suppliers.ref, ref));
    if (!supplier)
        throw notFound(`${ref} does not exist; "/isms register suppliers" lists the supplier register.`).on('supplier');
    if (supplier.status === 'rejected')
        throw conflict(`${ref} (${supplier.name}) was rejected in triage, so an AI tool cannot rely on it.`, 'Nothing was recorded.');
    return supplier;
}
const ALLOWED = ['approved', 'restricted', 'awaiting_management_approval'];
/** The AI tool a person may complete: the one who declared it, or the ISMS lead. */
async function toolToComplete(ctx, ref) {
    const [tool] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, ref)).for('update');
    if (!tool)
        throw notFound(`${ref} does not exist; "/isms register ai" lists the AI register.`);
    if (tool.declaredBy !== ctx.actor.id && !isLead(ctx.actor)) {
        throw forbidden(`Only the person who declared ${ref} or the ISMS lead may change its details.`);
    }
    return tool;
}
/** Completes an AI declaration with what was not known when it was declared. */
export async function completeAiDeclaration(ctx, input) {
    const before = await toolToComplete(ctx, input.ref);
    const dataCategories = input.data ?? before.dataCategories;
    // A decision allowing the tool was taken for the data it saw then: other data means deciding again.
    const reopened = ALLOWED.includes(before.status) && [...dataCategories].sort().join() !== [...before.dataCategories].sort().join();
    const [after] = await ctx.db.update(aiTools).set({
        vendor: input.vendor ?? before.vendor,
        purpose: input.purpose ?? before.purpose,
        dataCategories,
        userCount: input.users ?? before.userCount,
        supplierId: input.supplier ? (await supplierToLink(ctx, input.supplier)).id : before.supplierId,
        iso42001Controls: input.controls ? [...new Set(input.controls)] : before.iso42001Controls,
        ...(reopened && { status: 'under_review', managementApprovedBy: null, managementApprovedAt: null }),
    }).where(eq(aiTools.id, before.id)).returning();
    await ctx.audit({ action: 'update', entity: 'ai_tool', entityRef: before.ref, before, after });
    if (reopened)
        await refreshApprovals(ctx, aiToolApproval, after.ref, `${ctx.actor.name} changed the data ${after.ref} sees`);
    return { tool: after, reopened };
}
async function linkedSupplier(ctx, tool) {
    if (!tool.supplierId)
        return undefined;
    const [supplier] = await ctx.db.select().from(suppliers).where(eq(suppliers.id, tool.supplierId));
    return supplier;
}
/** The supplier and ISO/IEC 42001 controls of an AI tool, as its details and the AI register show them. */
export const aiLinkFields = (supplier, tool) => [
    ...(supplier ? [{ label: 'Supplier', value: `${supplier.ref} ${supplier.name}` }] : []),
    ...(tool.iso42001Controls.length ? [{ label: 'ISO/IEC 42001 controls', value: tool.iso42001Controls.join(', ') }] : []),
];
export const aiDetailsCommand = defineCommand({
    name: 'ai details',
    summary: 'Add what was not known when an AI tool was declared (vendor, purpose, data, users), its supplier and ISO/IEC 42001 controls',
    examples: ['ai details AI-0001 --vendor OpenAI --data internal,customer --users 12 --purpose "drafting emails"', 'ai details AI-0001 --supplier SUP-0001 --controls A.6.2.2,A.8.2'],
    schema: aiDetailsInput,
    args: {
        ref: { positional: true, label: 'AI reference', value: 'AI-ref', placeholder: 'e.g. AI-0001' },
        ...AI_DETAIL_ARGS,
        supplier: { value: 'SUP-ref', placeholder: 'e.g. SUP-0001' },
        controls: { label: 'ISO/IEC 42001 controls', value: 'A.x.y,…', options: async () => iso42001AnnexA().map((id) => ({ value: id, label: id })) },
    },
    form: { title: 'Add details to an AI declaration', submitLabel: 'Save' },
    async run(ctx, input) {
        if (DETAIL_NAMES.every((k) => input[k] === undefined)) {
            // The "Add details" button carries only the reference: ask for the details, showing what is known.
            const tool = await toolToComplete(ctx, input.ref);
            return reply(formBlock(await ctx.form({
                title: `Details of ${tool.name} (${tool.ref})`,
                known: { ref: tool.ref },
                fields: {
                    vendor: { initial: tool.vendor ?? undefined },
                    purpose: { initial: tool.purpose ?? undefined },
                    data: { initial: tool.dataCategories.length ? tool.dataCategories : undefined },
                    users: { initial: tool.userCount ? String(tool.userCount) : undefined },
                    supplier: { initial: (await linkedSupplier(ctx, tool))?.ref },
                    controls: { initial: tool.iso42001Controls.length ? tool.iso42001Controls : undefined },
                },
            })));
        }
        const { tool, reopened } = await completeAiDeclaration(ctx, input);
        return reply(text(`Updated the details of ${tool.name} (${tool.ref}).`, 'success'), ...(reopened
            ? [text(`Its data changed since it was decided, so ${tool.ref} is under review again: the ISMS lead decides it anew.`, 'warning')] : []), fields([
            { label: 'Reference', value: tool.ref },
            { label: 'Status', value: aiStatusInWords(tool) },
            { label: 'Vendor', value: tool.vendor ?? 'unknown' },
            { label: 'Purpose', value: tool.purpose ?? 'unknown' },
            { label: 'Data', value: tool.dataCategories.length ? tool.dataCategories.join(', ') : 'unknown' },
            { label: 'Users', value: tool.userCount ? String(tool.userCount) : 'unknown' },
            ...aiLinkFields(await linkedSupplier(ctx, tool), tool),
        ]));
    },
});
//# sourceMappingURL=ai-details.js.map