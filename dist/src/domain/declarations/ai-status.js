export const AI_STATUS_LABELS = {
    declared: 'declared',
    under_review: 'under review',
    awaiting_management_approval: 'awaiting management-body approval',
    approved: 'approved',
    restricted: 'restricted',
    prohibited: 'prohibited',
    duplicate: 'duplicate',
};
/** The status as people read it, e.g. "approved with conditions: no customer data" or "duplicate of AI-0001". */
export function aiStatusInWords(tool) {
    switch (tool.status) {
        case 'approved':
            return tool.conditions ? `approved with conditions: ${tool.conditions}` : 'approved';
        case 'restricted':
            return `restricted to: ${tool.conditions ?? 'conditions not recorded'}`;
        case 'awaiting_management_approval':
            return `${AI_STATUS_LABELS[tool.status]}${tool.conditions ? `; conditions: ${tool.conditions}` : ''}`;
        case 'prohibited':
            return tool.reason ? `prohibited: ${tool.reason}` : 'prohibited';
        case 'duplicate':
            return `duplicate of ${tool.duplicateOf ?? 'another entry'}`;
        default:
            return AI_STATUS_LABELS[tool.status] ?? tool.status;
    }
}
/** Data that makes a tool's approval a management-body decision. */
export const needsManagementApproval = (tool) => tool.dataCategories.some((c) => c === 'personal' || c === 'customer');
/** The name as compared for duplicates: case and spacing ignored ("Chat GPT" is "chatgpt"). */
export const comparableName = (name) => name.toLowerCase().replace(/\s+/g, '');
//# sourceMappingURL=ai-status.js.map