export class UserError extends Error {
    code;
    hint;
    /** The form field the problem is about, when there is one (e.g. "due" for a past due date). */
    field;
    constructor(code, message, hint) {
        super(message);
        this.code = code;
        this.hint = hint;
        this.name = 'UserError';
    }
    /** Names the form field this error belongs under. */
    on(field) {
        this.field = field;
        return this;
    }
}
export const invalid = (message, hint) => new UserError('invalid_input', message, hint);
export const notFound = (message, hint) => new UserError('not_found', message, hint);
export const forbidden = (message, hint) => new UserError('forbidden', message, hint);
export const conflict = (message, hint) => new UserError('conflict', message, hint);
//# sourceMappingURL=errors.js.map