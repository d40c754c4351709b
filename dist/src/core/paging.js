import { z } from 'zod';
import { invalid } from './errors.js';
export const PAGE_SIZE = 10;
export const pageNumber = z.coerce.number({ invalid_type_error: 'must be a page number, e.g. 2' })
    .int('must be a whole page number, e.g. 2').min(1, 'must be 1 or more').default(1).describe('Which page of the list to show');
/**
 * The slice of a list shown on one page, and the Page block whose next/previous are the
 * commands that show the neighbouring pages (e.g. "register ai --page 3").
 */
export function pageWindow(itemCount, pageNo, command, what) {
    const total = Math.max(1, Math.ceil(itemCount / PAGE_SIZE));
    if (pageNo > total) {
        throw invalid(`${what} has ${total} page${total === 1 ? '' : 's'}, so there is no page ${pageNo}.`, `"/isms ${command}" shows the first page.`);
    }
    return {
        offset: (pageNo - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        page: {
            number: pageNo,
            total,
            next: pageNo < total ? `${command} --page ${pageNo + 1}` : undefined,
            previous: pageNo > 1 ? `${command} --page ${pageNo - 1}` : undefined,
        },
    };
}
/** One page of a list already in memory, with the Page block for it. */
export function pageOf(all, pageNo, command, what) {
    const { offset, limit, page } = pageWindow(all.length, pageNo, command, what);
    return { items: all.slice(offset, offset + limit), page };
}
/** "--all" typed on its own: the whole list rather than what is open or one's own. */
export const allSwitch = z.enum(['true', 'false'], { errorMap: () => ({ message: 'is a switch: write --all on its own' }) }).optional();
//# sourceMappingURL=paging.js.map