import { z } from 'zod';
import { SUBSTITUTABILITY, SUPPLIER_REVIEW_OUTCOMES } from '../../db/schema/index.js';

/**
 * The values DORA's register of information (ITS (EU) 2024/2956) asks about a third-party provider,
 * and how each is checked when typed in chat.
 */

export type Substitutability = (typeof SUBSTITUTABILITY)[number];
export type ReviewOutcome = (typeof SUPPLIER_REVIEW_OUTCOMES)[number];

/** ISO 17442: 18 letters or digits and two check digits; read as a number (A=10 … Z=35), it leaves 1 when divided by 97. */
export function isValidLei(lei: string): boolean {
  if (!/^[0-9A-Z]{18}[0-9]{2}$/.test(lei)) return false;
  let rest = 0;
  for (const ch of lei) {
    const value = Number.parseInt(ch, 36);
    rest = (value > 9 ? rest * 100 + value : rest * 10 + value) % 97;
  }
  return rest === 1;
}

/** ISO 3166-1 alpha-2 officially assigned codes. */
const COUNTRIES = new Set(('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ '
  + 'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR '
  + 'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP '
  + 'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ '
  + 'NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW '
  + 'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ '
  + 'UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '));

export const isCountryCode = (code: string) => COUNTRIES.has(code);

// Made on first use: loading ICU's region names costs every start some tens of milliseconds.
let regionNames: Intl.DisplayNames | undefined;
/** "DE (Germany)". */
export const countryInWords = (code: string) => `${code} (${(regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' })).of(code) ?? code})`;

/** The types of ICT services of the register of information (ITS (EU) 2024/2956, Annex III), by their codes. */
export const ICT_SERVICE_TYPES = {
  S01: 'ICT project management',
  S02: 'ICT development',
  S03: 'ICT help desk and first-level support',
  S04: 'ICT security management services',
  S05: 'Provision of data',
  S06: 'Data analysis',
  S07: 'ICT facilities and hosting services (excluding cloud services)',
  S08: 'Computation',
  S09: 'Non-cloud data storage',
  S10: 'Telecom carrier',
  S11: 'Network infrastructure',
  S12: 'Hardware and physical devices',
  S13: 'Software licensing (excluding SaaS)',
  S14: 'ICT operation management (including maintenance)',
  S15: 'ICT consulting',
  S16: 'ICT risk management',
  S17: 'Cloud services: IaaS',
  S18: 'Cloud services: PaaS',
  S19: 'Cloud services: SaaS',
} as const;
export type IctServiceType = keyof typeof ICT_SERVICE_TYPES;
const SERVICE_CODES = Object.keys(ICT_SERVICE_TYPES) as IctServiceType[];
export const serviceTypeInWords = (code: string) => `${code} ${ICT_SERVICE_TYPES[code as IctServiceType] ?? ''}`.trim();

export const SUBSTITUTABILITY_LABELS: Record<Substitutability, string> = {
  easy: 'easily substitutable',
  medium: 'medium complexity to substitute',
  difficult: 'highly complex to substitute',
  impossible: 'not substitutable',
};

export const REVIEW_OUTCOME_LABELS: Record<ReviewOutcome, string> = {
  continue: 'continue',
  continue_with_actions: 'continue with actions',
  exit: 'exit',
};

const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase().replace(/\s+/g, '') : v);
const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase().replace(/[\s-]+/g, '_') : v);

export const leiInput = z.preprocess(upper, z.string().superRefine((v, ctx) => {
  if (!/^[0-9A-Z]{18}[0-9]{2}$/.test(v)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is no LEI: an LEI has 20 characters, 18 letters or digits and two check digits (ISO 17442), e.g. 5493001KJTIIGC8Y1R12` });
  } else if (!isValidLei(v)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `the check digits of ${v} do not match (ISO 17442): check it against the GLEIF record` });
  }
}));

export const countryInput = z.preprocess(upper, z.string().refine(isCountryCode, (v) => ({
  message: `"${v}" is no ISO 3166-1 country code: use two letters, e.g. DE, IE or US`,
})));

export const serviceTypeInput = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const code = /^s?0?(\d{1,2})$/i.exec(v.trim());
  return code ? `S${code[1].padStart(2, '0')}` : v.trim();
}, z.string().refine((v): v is IctServiceType => SERVICE_CODES.includes(v as IctServiceType), {
  message: `must be a type of ICT service from the register of information, S01 to S19 (e.g. S19 for SaaS); "/isms help supplier" lists them`,
}));

export const substitutabilityInput = z.preprocess(lower, z.enum(SUBSTITUTABILITY, {
  errorMap: () => ({ message: `must be one of ${SUBSTITUTABILITY.join(', ')}` }),
}));

export const reviewOutcomeInput = z.preprocess(lower, z.enum(SUPPLIER_REVIEW_OUTCOMES, {
  errorMap: () => ({ message: 'must be continue, continue-with-actions or exit' }),
}));
