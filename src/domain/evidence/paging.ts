import { z } from 'zod';
import { invalid } from '../../core/errors.js';
import type { Page } from '../../core/reply.js';

export const PAGE_SIZE = 10;

/** "--page 2": a page number from 1, page 1 when left out. */
export const pageNumber = z.coerce.number({ invalid_type_error: 'must be a page number such as 2' })
  .int('must be a whole page number').min(1, 'must be 1 or more').default(1);

/** One page of a list, with the command that shows the next one (e.g. "evidence --page 3"). */
export function pageOf<T>(all: T[], number: number, command: string): { items: T[]; page: Page } {
  const total = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  if (number > total) {
    throw invalid(`There ${total === 1 ? 'is only 1 page' : `are only ${total} pages`}, not page ${number}.`, `Try "/isms ${command}".`);
  }
  return {
    items: all.slice((number - 1) * PAGE_SIZE, number * PAGE_SIZE),
    page: {
      number,
      total,
      next: number < total ? `${command} --page ${number + 1}` : undefined,
      previous: number > 1 ? `${command} --page ${number - 1}` : undefined,
    },
  };
}
