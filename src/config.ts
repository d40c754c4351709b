import { z } from 'zod';
import { isTimeZone } from './core/validate.js';
import { DEFAULT_ORGANISATION_ZONE } from './core/time.js';
import cron from 'node-cron';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const optionalText = z.string().trim().min(1).optional();

/** Every setting the bot reads from the environment, validated once at start-up. */
const envSchema = z.object({
  DATABASE_URL: z.string().trim().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /** How long PostgreSQL may take to accept a connection or answer a query before the request is answered with a fault. */
  DATABASE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  ISMS_DATA_DIR: z.string().trim().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  ISMS_EXAMPLE_ORG: bool.optional(),
  ISMS_DEFAULT_TIMEZONE: z.string().trim().default(DEFAULT_ORGANISATION_ZONE).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  SLACK_BOT_TOKEN: z.string().trim().startsWith('xoxb-', 'must be a bot token starting with xoxb-').optional(),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: z.string().trim().startsWith('xapp-', 'must be an app-level token starting with xapp-').optional(),
  SLACK_API_URL: z.string().trim().url('must be a URL such as https://slack.com/api/').optional(),
  MICROSOFT_APP_ID: optionalText,
  MICROSOFT_APP_PASSWORD: optionalText,
  MICROSOFT_APP_TENANT_ID: optionalText,
  MICROSOFT_APP_TYPE: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  TEAMS_ENABLED: bool.default('false'),
  ISMS_WORKING_HOURS: z.string().trim().default('09:00-17:00')
    .refine((v) => parseWorkingHours(v) !== undefined, 'must be a span of the day such as 09:00-17:00 (start before end)'),
  ISMS_WORK_WEEKENDS: bool.default('false'),
  ISMS_NUDGE_CRON: z.string().trim().default('0 6 * * *').refine((v) => cron.validate(v), 'must be a cron expression such as "0 6 * * *" (06:00 every day)'),
  ISMS_DIGEST_CRON: z.string().trim().default('0 7 * * 1').refine((v) => cron.validate(v), 'must be a cron expression such as "0 7 * * 1" (Mondays 07:00)'),
  ISMS_WITNESS_CRON: z.string().trim().default('30 5 * * *').refine((v) => cron.validate(v), 'must be a cron expression such as "30 5 * * *" (05:30 every day)'),
  ISMS_WITNESS_FILE: optionalText,
  // Slack retries a delivery for minutes, the Bot Connector for less: a week is far beyond both.
  ISMS_PROCESSED_EVENTS_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 366).default(24 * 7),
  ISMS_EVIDENCE_LEAD_DAYS: z.coerce.number().int().min(0).max(180).default(14),
  ISMS_LADDER_DAYS: z.string().trim().default('-7,1,7,14')
    .refine((v) => parseLadderDays(v) !== undefined, 'must be four whole numbers of days relative to the due date, in increasing order, e.g. -7,1,7,14'),
  ISMS_REMINDER_REPEAT_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  ISMS_TRAINING_REMINDER_DAYS: z.string().trim().default('30,7,0')
    .refine((v) => parseDayList(v) !== undefined, 'must be whole numbers of days before expiry separated by commas, e.g. 30,7,0'),
  ISMS_SUPPLIER_REMINDER_DAYS: z.string().trim().default('14,0')
    .refine((v) => parseDayList(v) !== undefined, 'must be whole numbers of days before the review date separated by commas, e.g. 14,0'),
  ISMS_DELIVERY_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
  ISMS_DELIVERY_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(300),
  ISMS_SLACK_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).optional(),
  ISMS_TEAMS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).optional(),
  ISMS_DELIVERY_CONVERSATION_GAP_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  ISMS_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  ISMS_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(30_000),
  ISMS_DELIVERY_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
  ISMS_STOP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  ISMS_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(100),
  ISMS_COMMAND_NICE: z.coerce.number().int().min(0).max(19).default(10),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: z.string().trim().url('must be a URL such as https://api.openai.com/v1').optional(),
  OPENAI_MODEL: optionalText,
  // Below Slack's 3-second answer deadline, so that a slow model still leaves time for the plain answer.
  OPENAI_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** Evidence summaries also send a submitted file's extracted text (text, CSV, Markdown, JSON, XLSX). */
  ISMS_AI_FILE_TEXT: bool.default('false'),
}).superRefine((env, ctx) => {
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required when SLACK_BOT_TOKEN is set (or set SLACK_APP_TOKEN for Socket Mode)' });
  }
  if ((env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN) && !env.SLACK_BOT_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set' });
  }
  if (env.MICROSOFT_APP_ID && !env.MICROSOFT_APP_PASSWORD && env.MICROSOFT_APP_TYPE !== 'UserAssignedMSI') {
    ctx.addIssue({ code: 'custom', path: ['MICROSOFT_APP_PASSWORD'], message: 'is required when MICROSOFT_APP_ID is set' });
  }
  if ((env.OPENAI_BASE_URL || env.OPENAI_MODEL) && !env.OPENAI_API_KEY) {
    ctx.addIssue({ code: 'custom', path: ['OPENAI_API_KEY'], message: 'is required when OPENAI_BASE_URL or OPENAI_MODEL is set (any placeholder for a local server without keys)' });
  }
  if (env.OPENAI_API_KEY && !env.OPENAI_MODEL) {
    ctx.addIssue({ code: 'custom', path: ['OPENAI_MODEL'], message: 'is required when OPENAI_API_KEY is set, e.g. gpt-4o-mini' });
  }
});

export type Config = ReturnType<typeof toConfig>;

/** "09:00-17:00" into minutes after midnight; undefined when malformed or empty. */
export function parseWorkingHours(v: string): { start: number; end: number } | undefined {
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(v.trim());
  if (!m) return undefined;
  const [h1, m1, h2, m2] = m.slice(1).map(Number);
  if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || (h2 === 24 && m2 > 0)) return undefined;
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  return start < end ? { start, end } : undefined;
}

/** "30,7,0" into whole numbers; undefined when any part is not one. */
export function parseDayList(v: string): number[] | undefined {
  const parts = v.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^-?\d{1,4}$/.test(p))) return undefined;
  return parts.map(Number);
}

/** The four ladder steps in days relative to the due date, strictly increasing. */
export function parseLadderDays(v: string): [number, number, number, number] | undefined {
  const days = parseDayList(v);
  if (!days || days.length !== 4 || days.some((d, i) => i > 0 && d <= days[i - 1])) return undefined;
  return days as [number, number, number, number];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings from .env templates mean "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  }
  return toConfig(parsed.data);
}

function toConfig(env: z.infer<typeof envSchema>) {
  return {
    database: env.DATABASE_URL
      ? { kind: 'postgres' as const, url: env.DATABASE_URL, timeoutMs: env.DATABASE_TIMEOUT_MS }
      : { kind: 'pglite' as const, dataDir: env.ISMS_DATA_DIR },
    logLevel: env.LOG_LEVEL,
    port: env.PORT,
    /** How long a graceful stop may take before the process exits anyway. */
    stopTimeoutMs: env.ISMS_STOP_TIMEOUT_MS,
    /** Commands in flight (accepted, not answered yet) past which new ones are answered "busy" at once. */
    maxInFlight: env.ISMS_MAX_IN_FLIGHT,
    /**
     * How much lower than the thread acknowledging Slack's requests the thread running the commands is
     * scheduled (a nice value, 0 = the same): under load the acknowledgements go first.
     */
    commandNice: env.ISMS_COMMAND_NICE,
    /**
     * The fictional example organisation goes only where someone tries the bot: the terminal chat on an
     * empty embedded register, unless set explicitly. A real install (Slack, Teams, PostgreSQL) never gets it.
     */
    loadExampleOrg: env.ISMS_EXAMPLE_ORG ?? (!env.DATABASE_URL && !env.SLACK_BOT_TOKEN && !env.MICROSOFT_APP_ID && !env.TEAMS_ENABLED),
    defaultTimezone: env.ISMS_DEFAULT_TIMEZONE,
    slack: env.SLACK_BOT_TOKEN
      ? { botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET, appToken: env.SLACK_APP_TOKEN, apiUrl: env.SLACK_API_URL }
      : undefined,
    teams: env.MICROSOFT_APP_ID || env.TEAMS_ENABLED
      ? { appId: env.MICROSOFT_APP_ID, appPassword: env.MICROSOFT_APP_PASSWORD, tenantId: env.MICROSOFT_APP_TENANT_ID, appType: env.MICROSOFT_APP_TYPE }
      : undefined,
    /** AI assistance: plain-language messages become proposed commands. Undefined when not configured. */
    assistant: env.OPENAI_API_KEY && env.OPENAI_MODEL
      ? { apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_BASE_URL, model: env.OPENAI_MODEL, timeoutMs: env.OPENAI_TIMEOUT_MS, fileText: env.ISMS_AI_FILE_TEXT }
      : undefined,
    nudges: {
      timezone: env.ISMS_DEFAULT_TIMEZONE,
      workingHours: parseWorkingHours(env.ISMS_WORKING_HOURS)!,
      workWeekends: env.ISMS_WORK_WEEKENDS,
      nudgeCron: env.ISMS_NUDGE_CRON,
      digestCron: env.ISMS_DIGEST_CRON,
      witnessCron: env.ISMS_WITNESS_CRON,
      witnessFile: env.ISMS_WITNESS_FILE,
      /** How long a handled platform delivery (and its answer) is kept to recognise a retry; the hourly job prunes older ones. */
      processedEventsRetentionHours: env.ISMS_PROCESSED_EVENTS_RETENTION_HOURS,
      evidenceLeadDays: env.ISMS_EVIDENCE_LEAD_DAYS,
      ladderDays: parseLadderDays(env.ISMS_LADDER_DAYS)!,
      repeatEveryDays: env.ISMS_REMINDER_REPEAT_DAYS,
      trainingReminderDays: parseDayList(env.ISMS_TRAINING_REMINDER_DAYS)!,
      supplierReminderDays: parseDayList(env.ISMS_SUPPLIER_REMINDER_DAYS)!,
    },
    delivery: {
      intervalMs: env.ISMS_DELIVERY_INTERVAL_MS,
      perMinute: {
        slack: env.ISMS_SLACK_PER_MINUTE ?? env.ISMS_DELIVERY_PER_MINUTE,
        teams: env.ISMS_TEAMS_PER_MINUTE ?? env.ISMS_DELIVERY_PER_MINUTE,
      } as Record<string, number>,
      conversationGapMs: env.ISMS_DELIVERY_CONVERSATION_GAP_MS,
      maxAttempts: env.ISMS_DELIVERY_MAX_ATTEMPTS,
      backoffMs: env.ISMS_DELIVERY_BACKOFF_MS,
      leaseMs: env.ISMS_DELIVERY_LEASE_MS,
    },
  };
}
