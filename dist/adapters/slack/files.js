import { invalid } from '../../src/core/errors.js';
import { MAX_EVIDENCE_FILE_BYTES, fetchEach, fileTooLarge } from '../../src/core/attachments.js';
export function fetchAttachments(api, fileIds, request) {
    return fetchEach(fileIds, async (id) => {
        // The event's file object may be partial ("check_file_info"): files.info has the download URL.
        const { file } = await api.call('files.info', { file: id }, request);
        const name = file?.name ?? file?.title ?? id;
        const url = file?.url_private_download ?? file?.url_private;
        if (!url)
            throw invalid(`Slack did not let me read the file "${name}". Upload it again, or share a link instead.`);
        // Slack states the size: a file over the limit is refused without downloading it.
        if ((file?.size ?? 0) > MAX_EVIDENCE_FILE_BYTES)
            throw fileTooLarge(name);
        return api.download(url, name, request, file?.mimetype);
    });
}
//# sourceMappingURL=files.js.map