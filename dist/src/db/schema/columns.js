import { timestamp, integer, text } from 'drizzle-orm/pg-core';
/** Columns every register table shares: a gapless human reference and creation time. */
export const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const personRef = (name) => integer(name);
export const ref = () => text('ref').notNull().unique();
//# sourceMappingURL=columns.js.map