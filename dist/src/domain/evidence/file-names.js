import path from 'node:path';
/** Where evidence files sit in a bundle, and where OSCAL documents point for them. */
export const EVIDENCE_FOLDER = 'evidence/';
/** "EV-0003-access-review.pdf": the reference keeps names unique; anything but letters, digits, dot, dash and underscore becomes a dash. */
export function bundlePath(ref, fileName) {
    const ext = path.extname(fileName).replace(/[^A-Za-z0-9.]/g, '').slice(0, 16);
    const stem = fileName.slice(0, fileName.length - path.extname(fileName).length).normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
        .replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 100);
    return `${EVIDENCE_FOLDER}${ref}${stem ? `-${stem}` : ''}${ext}`;
}
//# sourceMappingURL=file-names.js.map