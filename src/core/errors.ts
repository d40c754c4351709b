/**
 * Errors a person can act on. The router turns each into a reply in the user's channel;
 * anything else is a fault: logged, and answered with a generic apology.
 */
export type UserErrorCode = 'invalid_input' | 'not_found' | 'forbidden' | 'conflict' | 'unknown_person' | 'unknown_command';

export class UserError extends Error {
  /** The form field the problem is about, when there is one (e.g. "due" for a past due date). */
  field?: string;

  constructor(readonly code: UserErrorCode, message: string, readonly hint?: string) {
    super(message);
    this.name = 'UserError';
  }

  /** Names the form field this error belongs under. */
  on(field: string): this {
    this.field = field;
    return this;
  }
}

export const invalid = (message: string, hint?: string) => new UserError('invalid_input', message, hint);
export const notFound = (message: string, hint?: string) => new UserError('not_found', message, hint);
export const forbidden = (message: string, hint?: string) => new UserError('forbidden', message, hint);
export const conflict = (message: string, hint?: string) => new UserError('conflict', message, hint);
