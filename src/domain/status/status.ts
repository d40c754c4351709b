import { z } from 'zod';
import { hasRole, isLead } from '../../core/actor.js';
import type { Db } from '../../db/client.js';
import { fields, reply, text, type Block, type Field, type ListItem } from '../../core/reply.js';
import { commandLine, defineCommand, type CommandContext, type CommandSpec } from '../../core/router.js';
import { triageAcceptCommand } from '../triage/decide.js';
import { poamApproveCommand } from '../poam/decide.js';
import { KIND_LABELS, triageButtons } from '../triage/labels.js';
import { extensionButtons } from '../poam/extend.js';
import { courseCompletion, obligationsOf } from '../training/obligations.js';
import { controlStates } from '../soa/soa.js';
import { obligationItem } from '../training/list.js';
import { itemListEntry, openItems, overdueMark } from '../poam/items.js';
import {
  approvalsAwaitingDecisionBy, extensionsDecidableBy, openEvidenceRequestsOf, programmeFigures, triageDecidableBy, unacknowledgedPoliciesOf,
  type ExtensionWaiting, type ProgrammeFigures, type TriageWaiting, type Waiting,
} from './queries.js';
import { readersDay } from '../../core/time.js';
import { evidenceAwaitingReviewBy } from '../evidence/review.js';
import { lazyDecidersRule } from '../../core/duties.js';
import { periodInWords } from '../evidence/words.js';

const percent = (part: number, whole: number) => `${Math.round((part / whole) * 100)}%`;
const share = (part: number, whole: number, none: string) => (whole === 0 ? none : `${percent(part, whole)} (${part} of ${whole})`);

/** Applicable controls with fresh evidence, and training obligations met (a valid attestation), today. */
async function coverage(db: Db, today: string) {
  const applicable = [...(await controlStates(db, today)).values()].filter((c) => c.applicable);
  const courses = await courseCompletion(db, today);
  return {
    fresh: applicable.filter((c) => c.evidence === 'fresh').length, applicable: applicable.length,
    trained: courses.reduce((n, c) => n + c.done, 0), obligations: courses.reduce((n, c) => n + c.expected, 0),
  };
}

/** What the management body oversees (NIS2 Art. 20, ISO 27001 9.3), in one compact set of figures. */
async function oversightFields(db: Db, f: ProgrammeFigures, today: string): Promise<Field[]> {
  const c = await coverage(db, today);
  return [
    {
      label: 'Risks over appetite',
      value: f.riskAppetite === null ? `no approved risk appetite (${f.risksOpen} risks)` : `${f.risksOverAppetite} of ${f.risksOpen} (appetite: residual score up to ${f.riskAppetite})`,
    },
    { label: 'Evidence freshness', value: share(c.fresh, c.applicable, 'no applicable controls') },
    { label: 'Training completion', value: share(c.trained, c.obligations, 'no training courses defined') },
    { label: 'Approvals waiting for the management body', value: String(f.approvalsPending) },
  ];
}

/** The management body's compact view of the programme. */
async function boardFields(db: Db, f: ProgrammeFigures, today: string): Promise<Field[]> {
  const [risk, ...rest] = await oversightFields(db, f, today);
  return [
    risk,
    { label: 'POA&M items', value: `${f.poamOpen} open, ${f.poamOverdue} overdue` },
    rest[0],
    { label: 'Policy acknowledgement', value: share(f.policyAcks, f.policyAcksExpected, 'no published policies') },
    ...rest.slice(1),
  ];
}

function programmeFields(f: ProgrammeFigures): Field[] {
  return [
    { label: 'Evidence requests', value: `${f.evidenceOpen} open, ${f.evidenceOverdue} overdue` },
    { label: 'Scope changes awaiting triage', value: String(f.scopeChangesProposed) },
    { label: 'POA&M items', value: `${f.poamOpen} open, ${f.poamOverdue} overdue` },
    { label: 'Extension requests pending', value: String(f.extensionsPending) },
    {
      label: 'Policy acknowledgement (current versions)',
      value: f.policyAcksExpected === 0 ? 'no published policies' : `${percent(f.policyAcks, f.policyAcksExpected)} (${f.policyAcks} of ${f.policyAcksExpected})`,
    },
    {
      label: 'Management-body training',
      value: f.boardCourses === 0
        ? 'no management-body course defined'
        : f.boardMembers === 0
          ? 'no members of the management body registered'
          : `${f.boardMembersCovered} of ${f.boardMembers} members hold a valid attestation`,
    },
  ];
}

/** Whether the person holds a role the command asks for: the roles that may decide before the rule on the item itself. */
const mayRun = (ctx: CommandContext, command: CommandSpec) => !command.roles || hasRole(ctx.actor, ...command.roles);

/** How many triage items and extension requests a to-do lists before "and N more". */
const SHOWN_DECISIONS = 3;

/** The oldest items waiting for the person's decision, and a pointer to the whole list when there are more. */
function decisionsList<T>(ctx: CommandContext, title: string, waiting: Waiting<T>, entry: (item: T) => ListItem, all: { command: string; label: string }): Block {
  const more = waiting.total - waiting.oldest.length;
  return {
    type: 'list',
    title,
    items: [
      ...waiting.oldest.map(entry),
      ...(more > 0 ? [{ title: `and ${more} more: ${commandLine(ctx.channel, all.command)}`, buttons: [{ label: all.label, command: all.command }] }] : []),
    ],
  };
}

const triageEntry = (ctx: CommandContext) => (c: TriageWaiting): ListItem => ({
  title: `${c.ref} — ${KIND_LABELS[c.kind]}: ${c.subject}`,
  detail: `declared by ${c.declarer} on ${readersDay(c.declaredAt, ctx.actor.timezone)}`,
  buttons: triageButtons(c.ref),
});

const extensionEntry = (ctx: CommandContext) => (e: ExtensionWaiting): ListItem => ({
  title: `${e.ref} — ${e.itemRef} ${e.weakness}`,
  detail: `${e.requester} asks to move the due date from ${e.previousDueOn} to ${e.requestedDueOn} (asked on ${readersDay(e.requestedAt, ctx.actor.timezone)})`,
  fields: [{ label: 'Reason', value: e.reason }],
  buttons: extensionButtons(e.ref),
});

export const statusCommand = defineCommand({
  name: 'status',
  readOnly: true,
  aliases: ['todo'],
  summary: 'Your to-do in one view (and, for the ISMS lead and the management body, the programme at a glance)',
  examples: ['status'],
  schema: z.object({}),
  async run(ctx) {
    const today = readersDay(ctx.now, ctx.actor.timezone);
    const evidence = await openEvidenceRequestsOf(ctx.db, ctx.actor.id);
    const policies = await unacknowledgedPoliciesOf(ctx.db, ctx.actor.id);
    const training = (await obligationsOf(ctx.db, ctx.actor.id, today)).filter((o) => o.state !== 'valid');
    const poam = await openItems(ctx.db, ctx.actor.id);
    const approvals = hasRole(ctx.actor, 'management_body') ? await approvalsAwaitingDecisionBy(ctx.db, ctx.actor.id) : 0;
    const reviews = await evidenceAwaitingReviewBy(ctx.db, ctx.actor);
    // The ISMS lead decides triage and extension requests, the management body those every lead had a part in (core/duties.ts).
    const none = { total: 0, oldest: [] };
    const rule = lazyDecidersRule(ctx.db);
    const triage = mayRun(ctx, triageAcceptCommand) ? await triageDecidableBy(ctx.db, ctx.actor.id, SHOWN_DECISIONS, rule) : none;
    const extensions = mayRun(ctx, poamApproveCommand) ? await extensionsDecidableBy(ctx.db, ctx.actor.id, SHOWN_DECISIONS, rule) : none;

    const overdue = evidence.filter((e) => e.dueOn < today).length + poam.filter((v) => v.item.dueOn < today).length
      + poam.flatMap((v) => v.milestones).filter((m) => !m.doneAt && m.dueOn < today).length;
    const waiting = evidence.length + policies.length + training.length + poam.length + approvals + reviews + triage.total + extensions.total;
    const blocks: Block[] = [
      text(waiting === 0
        ? `Nothing is waiting for you, ${ctx.actor.name}.`
        : `${ctx.actor.name}, ${waiting} thing${waiting === 1 ? '' : 's'} wait${waiting === 1 ? 's' : ''} for you${overdue ? `, ${overdue} overdue` : ''}.`,
      overdue ? 'warning' : undefined),
    ];
    if (evidence.length) {
      blocks.push({
        type: 'list',
        title: 'Evidence requests you owe',
        items: evidence.map((e) => ({
          title: `${e.ref} — ${e.controlCode} ${e.controlTitle}`,
          detail: `due ${e.dueOn}${overdueMark(e.dueOn, today)} · ${periodInWords(e.cycle)}`,
          buttons: [{ label: 'Submit evidence', command: `evidence submit ${e.ref}` }],
        })),
      });
    }
    if (reviews) {
      blocks.push({
        type: 'list',
        title: 'Evidence to review',
        items: [{
          title: `${reviews} evidence submission${reviews === 1 ? '' : 's'} wait${reviews === 1 ? 's' : ''} for your review`,
          buttons: [{ label: 'Review evidence', command: 'evidence review' }],
        }],
      });
    }
    if (triage.total) {
      blocks.push(decisionsList(ctx, 'Waiting for your triage, oldest first', triage, triageEntry(ctx), { command: 'triage', label: 'Show all' }));
    }
    if (extensions.total) {
      blocks.push(decisionsList(ctx, 'POA&M extension requests for your decision, oldest first', extensions, extensionEntry(ctx),
        { command: 'poam --all', label: 'Show all POA&M items' }));
    }
    if (approvals) {
      blocks.push({
        type: 'list',
        title: 'Approvals for the management body',
        items: [{
          title: `${approvals} request${approvals === 1 ? '' : 's'} for approval wait${approvals === 1 ? 's' : ''} for a decision of the management body`,
          buttons: [{ label: 'Show approvals', command: 'approvals' }],
        }],
      });
    }
    if (policies.length) {
      blocks.push({
        type: 'list',
        title: 'Policies to acknowledge',
        items: policies.map((p) => ({
          title: `${p.ref} — ${p.title}`,
          detail: `version ${p.version} not acknowledged yet`,
          buttons: [{ label: `Acknowledge version ${p.version}`, command: `ack ${p.ref} --version ${p.version}` }],
        })),
      });
    }
    if (training.length) {
      blocks.push({ type: 'list', title: 'Training due or expiring within 30 days', items: training.map(obligationItem) });
    }
    if (poam.length) {
      blocks.push({ type: 'list', title: 'Your POA&M items', items: poam.map((v) => itemListEntry(v, today, ctx.actor, false)) });
    }
    if (isLead(ctx.actor)) {
      const figures = await programmeFigures(ctx.db, today);
      blocks.push({ type: 'divider' });
      blocks.push(fields([...programmeFields(figures), ...await oversightFields(ctx.db, figures, today)], 'Programme at a glance'));
    } else if (hasRole(ctx.actor, 'management_body')) {
      blocks.push({ type: 'divider' });
      blocks.push(fields(await boardFields(ctx.db, await programmeFigures(ctx.db, today), today), 'Programme at a glance'));
    }
    return reply(...blocks);
  },
});
