export const reply = (...blocks) => ({ blocks });
export const text = (body, tone) => ({ type: 'text', text: body, tone });
export const fields = (list, title) => ({ type: 'fields', title, fields: list });
export const actions = (...buttons) => ({ type: 'actions', buttons });
export const formBlock = (form) => ({ type: 'form', form });
export const fileBlock = (file) => ({ type: 'file', file });
export function replyText(body, tone) {
    return reply(text(body, tone));
}
/** The form in a reply, if it asks for one. */
export function findForm(r) {
    for (const b of r.blocks)
        if (b.type === 'form')
            return b.form;
    return undefined;
}
const TONE_PREFIX = { info: '', success: '✔ ', warning: '⚠ ', error: '✖ ' };
/** Plain text rendering: the terminal uses it, and chat platforms use it as notification fallback text. */
export function toPlainText(r) {
    const out = [];
    for (const b of r.blocks) {
        switch (b.type) {
            case 'text':
                out.push(TONE_PREFIX[b.tone ?? 'info'] + b.text);
                break;
            case 'fields':
                if (b.title)
                    out.push(b.title);
                for (const f of b.fields)
                    out.push(`  ${f.label}: ${f.value}`);
                break;
            case 'list':
                if (b.title)
                    out.push(b.title);
                if (b.items.length === 0)
                    out.push(`  ${b.empty ?? '(none)'}`);
                for (const item of b.items) {
                    out.push(`  • ${item.title}${item.detail ? ` — ${item.detail}` : ''}`);
                    for (const f of item.fields ?? [])
                        out.push(`      ${f.label}: ${f.value}`);
                    for (const btn of item.buttons ?? [])
                        out.push(`      [${btn.label}] /isms ${btn.command}`);
                }
                if (b.page && b.page.total > 1) {
                    out.push(`  page ${b.page.number} of ${b.page.total}${b.page.next ? ` — next: /isms ${b.page.next}` : ''}`);
                }
                break;
            case 'actions':
                for (const btn of b.buttons)
                    out.push(`  [${btn.label}] /isms ${btn.command}`);
                break;
            case 'form':
                out.push(`${b.form.title}:`);
                for (const f of b.form.fields)
                    out.push(`  ${f.label}${f.required ? '' : ' (optional)'}`);
                break;
            case 'file':
                out.push(`📎 ${b.file.title}: ${b.file.name}`);
                break;
            case 'divider':
                out.push('—');
                break;
        }
    }
    return out.join('\n');
}
/** Longest notification text: a push notification or a screen reader's summary, not the whole message. */
const NOTIFICATION_MAX = 300;
/**
 * What a notification or a screen reader says for a message: its sentences and list titles, without
 * buttons, command lines or form fields (those stay in the message itself), cut to a sane length.
 */
export function notificationText(r, max = NOTIFICATION_MAX) {
    const out = [];
    for (const b of r.blocks) {
        if (b.type === 'text')
            out.push(b.text);
        else if (b.type === 'list') {
            if (b.title)
                out.push(b.title);
            for (const item of b.items)
                out.push(`• ${item.title}`);
        }
        else if (b.type === 'fields' && b.title)
            out.push(b.title);
        else if (b.type === 'form')
            out.push(b.form.title);
        else if (b.type === 'file')
            out.push(b.file.title);
    }
    // A reply of fields alone (a record's details) says them rather than nothing.
    if (out.length === 0)
        for (const b of r.blocks)
            if (b.type === 'fields')
                out.push(...b.fields.map((f) => `${f.label}: ${f.value}`));
    const whole = out.join('\n').trim();
    if (whole.length <= max)
        return whole;
    // Never split a surrogate pair: a broken emoji would show as a replacement character.
    const end = /[\uD800-\uDBFF]/.test(whole.charAt(max - 2)) ? max - 2 : max - 1;
    return `${whole.slice(0, end)}…`;
}
//# sourceMappingURL=reply.js.map