import { z } from 'zod';
import { asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { assets, controls, riskAssessments, riskAssets, riskControls, risks, TREATMENTS } from '../../db/schema/index.js';
import { commaList, defineCommand, type CommandContext } from '../../core/router.js';
import { MAX_CHOICES } from '../../core/args.js';
import { isLead, personNamed, personRef } from '../../core/actor.js';
import { conflict, forbidden, invalid, notFound } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { registerRef } from '../../core/validate.js';
import { fields, reply, text, type Field } from '../../core/reply.js';
import { riskEntry, riskRating, riskTreatment } from '../../import/schema.js';
import { sameName, serializeAdds, tidyName } from '../registers/entries.js';
import { refreshApprovals } from '../approvals/request.js';
import { loadRisk, riskAcceptanceSubject } from './accept.js';
import type { Risk } from './register.js';
import { threatChoices } from './threats.js';
import { catalogueThreat, threatInWords } from '../../refdata/threats.js';

/** A score from 1 to 5, as the import checks it. */
const rating = riskRating;

/** "6", or the residual likelihood and impact as "2x3" (also 2*3, 2×3), read as their product. */
const residualScore = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const product = /^\s*([1-5])\s*[x×*]\s*([1-5])\s*$/i.exec(v);
  if (product) return Number(product[1]) * Number(product[2]);
  return /^\s*\d+\s*$/.test(v) ? Number(v) : v;
}, z.number({ invalid_type_error: 'must be a score from 1 to 25, or residual likelihood x impact such as 2x3' })
  .int('must be a whole number').min(1, 'must be between 1 and 25').max(25, 'must be between 1 and 25'));

const rationale = z.string().trim().min(1, 'say why the scores are what they are').max(4000, 'must be at most 4000 characters');

export const riskAddInput = z.object({
  title: riskEntry.shape.title.describe('What could go wrong, e.g. "Ransomware on the file servers"'),
  description: riskEntry.shape.description.describe('More about the risk: cause, event, consequence'),
  likelihood: rating.describe('Likelihood before controls, 1 (rare) to 5 (almost certain)'),
  impact: rating.describe('Impact before controls, 1 (negligible) to 5 (severe)'),
  residual: residualScore.optional().describe('The score with the controls in place: a score, or residual likelihood x impact such as 2x3 (the inherent score when left out)'),
  treatment: riskTreatment.describe(`How it is treated: ${TREATMENTS.join(', ')}`),
  owner: personRef.optional().describe('The risk owner, someone in the register: email, name or @handle'),
  assets: commaList(registerRef('AST')).optional().describe('The assets it is about, e.g. AST-0001,AST-0003'),
  controls: commaList(z.string().trim().min(1).max(100)).optional().describe('The controls that treat it, by code, e.g. CTL-AC-01,CTL-OPS-01'),
  threat: catalogueThreat.optional().describe('The threat it realises, by its id in the threat catalogue ("/isms threats" lists them), e.g. T-IS-004'),
});

export const riskUpdateInput = z.object({
  risk: registerRef('R').describe('The risk, e.g. R-0003'),
  likelihood: rating.optional().describe('The new likelihood before controls, 1 to 5'),
  impact: rating.optional().describe('The new impact before controls, 1 to 5'),
  residual: residualScore.optional().describe('The new residual score, or residual likelihood x impact such as 2x3'),
  threat: riskAddInput.shape.threat,
  rationale: rationale.describe('Why the risk is reassessed so; auditors read this'),
});

/**
 * Appends an assessment of `risk` to its history (append-only), by the acting person, with its audit event:
 * the scores as they are now, and those of `before` (none for a risk's first assessment).
 */
export async function recordAssessment(ctx: CommandContext, risk: Risk, rationale: string, before?: Risk): Promise<void> {
  const [assessment] = await ctx.db.insert(riskAssessments).values({
    riskId: risk.id, assessedBy: ctx.actor.id, assessedAt: ctx.now,
    ...(before && {
      likelihoodBefore: before.likelihood, impactBefore: before.impact, inherentScoreBefore: before.inherentScore, residualScoreBefore: before.residualScore,
    }),
    likelihoodAfter: risk.likelihood, impactAfter: risk.impact, inherentScoreAfter: risk.inherentScore, residualScoreAfter: risk.residualScore, rationale,
  }).returning();
  await ctx.audit({ action: 'assess', entity: 'risk_assessment', entityRef: risk.ref, after: assessment });
}

/** Whether reassessing `before` to `residual` reopens it: an acceptance holds for the residual score it was decided at. */
export const reopensAccepted = (before: Risk, residual: number): boolean => residual !== before.residualScore && before.status === 'accepted';

/**
 * After the residual score of `before` changed to `residual`: the management body's requests and decisions about
 * accepting it go stale, their requesters told why (`how` says by what, e.g. " in the import risks.yaml").
 */
export const refreshAcceptanceApprovals = (ctx: CommandContext, before: Risk, residual: number, how = '') =>
  refreshApprovals(ctx, riskAcceptanceSubject, before.ref, `the residual score of ${before.ref} changed from ${before.residualScore} to ${residual}${how}`);

function refuseResidualAboveInherent(residual: number, inherent: number) {
  if (residual > inherent) {
    throw invalid(`residual: ${residual} is above the inherent score ${inherent}; controls in place cannot make a risk worse.`,
      'Give a residual score up to the inherent score (likelihood times impact), or raise the likelihood or impact.').on('residual');
  }
}

/** The assets and controls named, all of which must exist (and assets be in use). */
async function linkedItems(ctx: CommandContext, assetRefs: string[], controlCodes: string[]) {
  const foundAssets = assetRefs.length ? await ctx.db.select().from(assets).where(inArray(assets.ref, assetRefs)) : [];
  const unknownAssets = assetRefs.filter((r) => !foundAssets.some((a) => a.ref === r));
  if (unknownAssets.length) throw notFound(`assets: ${unknownAssets.join(', ')} ${unknownAssets.length === 1 ? 'is' : 'are'} not in the asset register.`, '"/isms assets" lists the assets with their references.').on('assets');
  const retired = foundAssets.filter((a) => a.retiredAt);
  if (retired.length) throw invalid(`assets: ${retired.map((a) => `${a.ref} ${a.name}`).join(', ')} ${retired.length === 1 ? 'is' : 'are'} retired.`, 'Name assets in use.').on('assets');
  const lowered = controlCodes.map((c) => c.toLowerCase());
  const foundControls = lowered.length ? await ctx.db.select().from(controls).where(inArray(sql`lower(${controls.code})`, lowered)) : [];
  const unknownControls = controlCodes.filter((c) => !foundControls.some((k) => k.code.toLowerCase() === c.toLowerCase()));
  if (unknownControls.length) throw notFound(`controls: ${unknownControls.join(', ')} ${unknownControls.length === 1 ? 'is' : 'are'} not a control code in the register.`, '"/isms soa" lists the controls with their codes.').on('controls');
  return { assets: foundAssets.sort((a, b) => a.ref.localeCompare(b.ref)), controls: foundControls.sort((a, b) => a.code.localeCompare(b.code)) };
}

/** The assets in use and the controls, for the form's pickers. */
// As many as a form lists and one more, which says they are typed instead: a large register is not read to show a text field.
const assetChoices = async (ctx: CommandContext) => (await ctx.db.select({ ref: assets.ref, name: assets.name }).from(assets)
  .where(isNull(assets.retiredAt)).orderBy(asc(assets.ref)).limit(MAX_CHOICES + 1))
  .map((a) => ({ value: a.ref, label: `${a.ref} ${a.name}` }));
const controlChoices = async (ctx: CommandContext) => (await ctx.db.select({ code: controls.code, title: controls.title }).from(controls)
  .orderBy(asc(controls.code)).limit(MAX_CHOICES + 1))
  .map((c) => ({ value: c.code, label: `${c.code} ${c.title}` }));

const THREAT_ARG = { label: 'Threat', value: 'threat, e.g. T-IS-004', options: threatChoices };

const scoreFields = (risk: Risk): Field[] => [
  { label: 'Likelihood × impact', value: `${risk.likelihood} × ${risk.impact}` },
  { label: 'Inherent score', value: String(risk.inherentScore) },
  { label: 'Residual score', value: String(risk.residualScore) },
];

export const riskAddCommand = defineCommand({
  name: 'risk add',
  summary: 'Add a risk to the risk register with its scores, treatment, owner, assets, controls and threat',
  examples: ['risk add "Ransomware on the file servers" "encrypts shared drives; backups offline" --likelihood 4 --impact 5 --residual 2x4 --treatment mitigate --owner lena.fischer@northwind.example --assets AST-0001 --controls CTL-OPS-01 --threat T-IS-004'],
  roles: ['isms_lead'],
  schema: riskAddInput,
  args: {
    title: { positional: true, placeholder: 'e.g. Ransomware on the file servers' },
    description: { positional: 'rest', label: 'What is the risk?', field: 'textarea' },
    likelihood: { label: 'Likelihood (1-5)' },
    impact: { label: 'Impact (1-5)' },
    residual: { label: 'Residual score (or likelihood x impact, e.g. 2x3)', value: 'score|LxI', field: 'text' },
    treatment: { options: TREATMENTS.map((t) => ({ value: t, label: t })) },
    owner: { label: 'Risk owner', value: 'email or @name' },
    assets: { label: 'Assets', value: 'AST-ref,…', options: assetChoices },
    controls: { label: 'Controls', value: 'code,…', options: controlChoices },
    threat: THREAT_ARG,
  },
  form: { title: 'Add a risk', submitLabel: 'Add risk' },
  async run(ctx, input) {
    const title = tidyName(input.title);
    const owner = input.owner ? await personNamed(ctx.db, 'owner', input.owner) : undefined;
    const inherentScore = input.likelihood * input.impact;
    const residual = input.residual ?? inherentScore;
    refuseResidualAboveInherent(residual, inherentScore);
    const links = await linkedItems(ctx, [...new Set(input.assets ?? [])], [...new Set(input.controls ?? [])]);
    await serializeAdds(ctx.db, 'risks');
    const [existing] = await ctx.db.select().from(risks).where(sameName(risks.title, title));
    if (existing) throw conflict(`"${existing.title}" is already in the risk register as ${existing.ref}.`, `Nothing new was recorded; reassess it with "/isms risk update ${existing.ref}".`).on('title');
    const ref = await nextRef(ctx.db, 'R');
    const [risk] = await ctx.db.insert(risks).values({
      ref, title, description: input.description, threatRef: input.threat, likelihood: input.likelihood, impact: input.impact,
      inherentScore, residualScore: residual, treatment: input.treatment, ownerId: owner?.id, createdAt: ctx.now,
    }).returning();
    if (links.assets.length) await ctx.db.insert(riskAssets).values(links.assets.map((a) => ({ riskId: risk.id, assetId: a.id })));
    if (links.controls.length) await ctx.db.insert(riskControls).values(links.controls.map((c) => ({ riskId: risk.id, controlId: c.id })));
    const assetRefs = links.assets.map((a) => a.ref);
    const controlCodes = links.controls.map((c) => c.code);
    await ctx.audit({ action: 'create', entity: 'risk', entityRef: ref, after: { ...risk, assets: assetRefs, controls: controlCodes } });
    await recordAssessment(ctx, risk, 'first assessment, as the risk was added');
    return {
      ...reply(text(`Added ${title} to the risk register as ${ref}.`, 'success'), fields([
        { label: 'Reference', value: ref },
        // A title typed without quotes ("risk add Ransomware on ledger") leaves its other words here: the answer shows where they went.
        ...(risk.description ? [{ label: 'Description', value: risk.description }] : []),
        ...scoreFields(risk),
        { label: 'Treatment', value: risk.treatment },
        { label: 'Owner', value: owner?.name ?? 'none yet' },
        ...(assetRefs.length ? [{ label: 'Assets', value: links.assets.map((a) => `${a.ref} ${a.name}`).join(', ') }] : []),
        ...(controlCodes.length ? [{ label: 'Controls', value: controlCodes.join(', ') }] : []),
        ...(risk.threatRef ? [{ label: 'Threat', value: threatInWords(risk.threatRef) }] : []),
      ])),
      about: ref,
    };
  },
});

export const riskUpdateCommand = defineCommand({
  name: 'risk update',
  summary: 'Reassess a risk\'s scores or its threat with a rationale (its owner or the ISMS lead); a changed residual score reopens an accepted risk',
  examples: ['risk update R-0001 --residual 2x3 "restores now tested monthly"', 'risk update R-0003 --likelihood 3 --impact 4 "phishing simulation halved the click rate"'],
  schema: riskUpdateInput,
  args: {
    risk: { positional: true, value: 'R-ref' },
    rationale: { positional: 'rest', label: 'Why is it reassessed so?' },
    likelihood: { label: 'Likelihood (1-5)' },
    impact: { label: 'Impact (1-5)' },
    residual: { label: 'Residual score (or likelihood x impact, e.g. 2x3)', value: 'score|LxI', field: 'text' },
    threat: THREAT_ARG,
  },
  form: { title: 'Reassess a risk', submitLabel: 'Reassess' },
  async run(ctx, input) {
    const before = await loadRisk(ctx.db, input.risk);
    if (!isLead(ctx.actor) && before.ownerId !== ctx.actor.id) {
      throw forbidden(`Only ${before.ref}'s owner or the ISMS lead may reassess it.`, '"/isms risks" lists the risks you own.');
    }
    const likelihood = input.likelihood ?? before.likelihood;
    const impact = input.impact ?? before.impact;
    const inherentScore = likelihood * impact;
    const residual = input.residual ?? before.residualScore;
    refuseResidualAboveInherent(residual, inherentScore);
    const threatRef = input.threat ?? before.threatRef;
    const threatChanged = threatRef !== before.threatRef;
    const scoresChanged = likelihood !== before.likelihood || impact !== before.impact || residual !== before.residualScore;
    if (!scoresChanged && !threatChanged) {
      throw conflict(`${before.ref} already has likelihood ${likelihood}, impact ${impact} and residual score ${residual}`
        + `${input.threat ? ` and threat ${threatInWords(input.threat)}` : ''}; nothing changed.`,
      'Give --likelihood, --impact, --residual or --threat with a new value.');
    }
    const residualChanged = residual !== before.residualScore;
    const reopen = reopensAccepted(before, residual);
    const [after] = await ctx.db.update(risks).set({ likelihood, impact, inherentScore, residualScore: residual, threatRef, ...(reopen ? { status: 'open' } : {}) })
      .where(eq(risks.id, before.id)).returning();
    // The assessment history holds scores; a new threat alone is in the risk's own event, before and after,
    // which keeps the rationale too, so why the threat changed is on record.
    if (scoresChanged) await recordAssessment(ctx, after, input.rationale, before);
    await ctx.audit({ action: reopen ? 'reopen' : 'update', entity: 'risk', entityRef: before.ref, before, after: { ...after, rationale: input.rationale } });
    const stale = residualChanged ? await refreshAcceptanceApprovals(ctx, before, residual) : [];
    const notes = [
      ...(reopen ? [`${before.ref} was accepted at residual score ${before.residualScore}; it is open again and needs a new acceptance decision.`] : []),
      ...(stale.length ? [`The management body's ${stale.map((a) => a.ref).join(', ')} no longer covers it.`] : []),
    ];
    return {
      ...reply(
        text([
          ...(scoresChanged ? [`Reassessed ${before.ref} (${before.title}): inherent ${before.inherentScore} → ${inherentScore}, residual ${before.residualScore} → ${residual}.`] : []),
          ...(threatChanged ? [`${scoresChanged ? 'Its' : `${before.ref} (${before.title}):`} threat ${before.threatRef ? threatInWords(before.threatRef) : 'none'} → ${threatInWords(threatRef!)}.`] : []),
        ].join(' '), 'success'),
        fields([
          ...scoreFields(after), ...(after.threatRef ? [{ label: 'Threat', value: threatInWords(after.threatRef) }] : []),
          { label: 'Rationale', value: input.rationale }, { label: 'Reassessed by', value: ctx.actor.name },
        ]),
        ...(notes.length ? [text(notes.join(' '), 'warning')] : []),
      ),
      about: before.ref,
    };
  },
});
