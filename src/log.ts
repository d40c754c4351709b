import { pino, type Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log object: tokens, secrets, signing keys. */
export const REDACT_PATHS = [
  '*.token', '*.botToken', '*.appToken', '*.signingSecret', '*.appPassword', '*.password', '*.secret',
  '*.authorization', '*.Authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization',
  'config.slack.botToken', 'config.slack.signingSecret', 'config.slack.appToken', 'config.teams.appPassword',
  '*.SLACK_BOT_TOKEN', '*.SLACK_SIGNING_SECRET', '*.SLACK_APP_TOKEN', '*.MICROSOFT_APP_PASSWORD', '*.DATABASE_URL',
  'token', 'secret', 'password', 'authorization',
  '*.apiKey', 'config.assistant.apiKey', '*.OPENAI_API_KEY',
];

/** Token-shaped strings that must not survive even inside a message text. */
const SECRET_PATTERNS = [/xox[abposr]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g, /(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+@/g, /Bearer\s+[A-Za-z0-9._~+/=-]+/g, /sk-[A-Za-z0-9_-]{16,}/g];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const p of SECRET_PATTERNS) out = out.replace(p, (m, prefix?: string) => (typeof prefix === 'string' && m.startsWith(prefix) && prefix.startsWith('postgres') ? `${prefix}[redacted]@` : '[redacted]'));
  return out;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        // Scrub token-shaped text in messages and error messages as well as in named fields.
        const scrubbed = args.map((a) => {
          if (typeof a === 'string') return scrubSecrets(a);
          if (a instanceof Error) { a.message = scrubSecrets(a.message); return a; }
          return a;
        });
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  }, destination as never ?? pino.destination(2));
}
