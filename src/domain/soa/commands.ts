import { defineCommand } from '../../core/router.js';
import { actions, fields, reply, text, type Block, type ListItem } from '../../core/reply.js';
import { SOA_ARTEFACTS } from './export.js';
import { readersDay } from '../../core/time.js';
import { FRAMEWORKS } from '../../refdata/frameworks.js';
import type { Role } from '../../db/schema/index.js';
import { frameworkArg, frameworkInput, resolveFramework } from './frameworks.js';
import { soaApprovalInWords } from './approval.js';
import { coverage, soaRows, summarise, type SoaRow } from './soa.js';

/** Undecided requirements and gaps shown in chat; the export carries them all. */
const SHOWN = 10;
const READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

const rowTitle = (r: SoaRow) => `${r.reference}${r.title ? ` ${r.title.length > 120 ? `${r.title.slice(0, 117)}…` : r.title}` : ''}`;
const more = (total: number, what: string) => (total > SHOWN ? ` (first ${SHOWN} of ${total} ${what})` : '');

export const soaCommand = defineCommand({
  name: 'soa',
  readOnly: true,
  aliases: ['statement of applicability'],
  summary: 'The statement of applicability of a framework: decided, applicable, implemented, evidence fresh',
  examples: ['soa ISO27001:2022', 'soa nist-csf-2.0'],
  roles: READERS,
  schema: frameworkInput,
  args: frameworkArg,
  form: { title: 'Statement of applicability', submitLabel: 'Show' },
  async run(ctx, args) {
    const framework = resolveFramework(args.framework);
    const rows = await soaRows(ctx.db, framework, readersDay(ctx.now, ctx.actor.timezone));
    const s = summarise(rows);
    const undecided = rows.filter((r) => r.decision === 'no decision');
    const blocks: Block[] = [
      text(rows.length === 0
        ? `${FRAMEWORKS[framework].name} has no requirements in the register yet.`
        : `Statement of applicability, ${FRAMEWORKS[framework].name}: ${s.decided} of ${s.requirements} requirements decided.`,
      undecided.length || rows.length === 0 ? 'warning' : 'success'),
      fields([
        { label: 'Decided', value: `${s.decided} (${undecided.length} undecided)` },
        { label: 'Applicable', value: `${s.applicable} (${s.notApplicable} not applicable)` },
        { label: 'Implemented', value: `${s.implemented} of ${s.applicable} applicable${s.partlyImplemented ? `, ${s.partlyImplemented} partly` : ''}` },
        { label: 'Evidence', value: `${s.evidenceFresh} fresh, ${s.evidenceStale} stale, ${s.evidenceNone} none` },
        ...(rows.length ? [{ label: 'Management-body approval', value: await soaApprovalInWords(ctx.db, framework, ctx.actor.timezone) }] : []),
      ]),
    ];
    if (undecided.length) {
      blocks.push({
        type: 'list', title: `No decision yet${more(undecided.length, 'undecided')}`,
        items: undecided.slice(0, SHOWN).map((r) => ({ title: rowTitle(r), detail: 'no internal control is mapped to it' })),
      });
    }
    const artefact = SOA_ARTEFACTS.find((x) => x.framework === framework);
    blocks.push(text(`Gaps and drift: /isms coverage ${framework}.`));
    if (artefact) {
      blocks.push(text(`The whole statement, row by row: /isms export ${artefact.name} [csv|json|xlsx].`));
      blocks.push(actions({ label: 'Export (XLSX)', command: `export ${artefact.name} xlsx` }));
    }
    return reply(...blocks);
  },
});

export const coverageCommand = defineCommand({
  name: 'coverage',
  readOnly: true,
  summary: 'Where a framework has gaps: requirements with no control, controls without fresh evidence, drift between frameworks',
  examples: ['coverage NIST-CSF-2.0', 'coverage ISO27001:2022'],
  roles: READERS,
  schema: frameworkInput,
  args: frameworkArg,
  form: { title: 'Coverage of a framework', submitLabel: 'Show' },
  async run(ctx, args) {
    const c = await coverage(ctx.db, resolveFramework(args.framework), readersDay(ctx.now, ctx.actor.timezone));
    const gaps = c.uncovered.length + c.unevidenced.length + c.drift.length;
    const controlItem = (code: string, title: string, detail: string): ListItem => ({ title: `${code} ${title}`, detail });
    return reply(
      text(gaps === 0
        ? `${FRAMEWORKS[c.framework].name}: every requirement has a control, every applicable control fresh evidence, and no framework disagrees.`
        : `${FRAMEWORKS[c.framework].name}: ${c.uncovered.length} requirement${c.uncovered.length === 1 ? '' : 's'} with no control, `
          + `${c.unevidenced.length} control${c.unevidenced.length === 1 ? '' : 's'} without fresh evidence, ${c.drift.length} drift.`,
      gaps ? 'warning' : 'success'),
      {
        type: 'list', title: `Requirements with no control${more(c.uncovered.length, 'requirements')}`, empty: 'None.',
        items: c.uncovered.slice(0, SHOWN).map((r) => ({ title: rowTitle(r) })),
      },
      {
        type: 'list', title: `Controls without fresh evidence${more(c.unevidenced.length, 'controls')}`, empty: 'None.',
        items: c.unevidenced.slice(0, SHOWN).map((s) => controlItem(s.code, s.title, s.evidence === 'none'
          ? 'no submitted or accepted evidence yet' : `stale: latest evidence effective ${s.latestEvidenceOn}`)),
      },
      {
        type: 'list', title: `Drift${more(c.drift.length, 'disagreements')}`, empty: 'None.',
        items: c.drift.slice(0, SHOWN).map((d) => ({ title: `${d.control}: ${d.requirement.framework} ${d.requirement.reference} ↔ ${d.other.framework} ${d.other.reference}`, detail: d.reason })),
      },
    );
  },
});
