import { pino } from 'pino';
/** Paths pino blanks out wherever they appear in a log object: tokens, secrets, signing keys. */
export const REDACT_PATHS = [
    '*.token', '*.botToken', '*.appToken', '*.signingSecret', '*.appPassword', '*.password', '*.secret',
    '*.authorization', '*.Authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization',
    'config.slack.botToken', 'config.slack.signingSecret', 'config.slack.appToken', 'config.teams.appPassword',
    '*.SLACK_BOT_TOKEN', '*.SLACK_SIGNING_SECRET', '*.SLACK_APP_TOKEN', '*.MICROSOFT_APP_PASSWORD', '*.DATABASE_URL',
    'token', 'secret', 'password', 'authorization',
];
/** Token-shaped strings that must not survive even inside a message text. */
const SECRET_PATTERNS = [/xox[abposr]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g, /(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+@/g, /Bearer\s+[A-Za-z0-9._~+/=-]+/g];
export function scrubSecrets(text) {
    let out = text;
    for (const p of SECRET_PATTERNS)
        out = out.replace(p, (m, prefix) => (typeof prefix === 'string' && m.startsWith(prefix) && prefix.startsWith('postgres') ? `${prefix}[redacted]@` : '[redacted]'));
    return out;
}
export function createLogger(level, destination) {
    return pino({
        level,
        redact: { paths: REDACT_PATHS, censor: '[redacted]' },
        hooks: {
            logMethod(args, method) {
                // Scrub token-shaped text in messages and error messages as well as in named fields.
                const scrubbed = args.map((a) => {
                    if (typeof a === 'string')
                        return scrubSecrets(a);
                    if (a instanceof Error) {
                        a.message = scrubSecrets(a.message);
                        return a;
                    }
                    return a;
                });
                return method.apply(this, scrubbed);
            },
        },
    }, destination ?? pino.destination(2));
}
//# sourceMappingURL=log.js.map