import { and, eq, sql } from 'drizzle-orm';
import { ackCampaignAudience, ackCampaigns, people, policies, policyVersions } from '../../db/schema/index.js';
import { daysBetween, localDate, readersDay } from '../../core/time.js';
import { dueText } from './ladder.js';
import { jobOf, type JobPart } from './run.js';

/**
 * (4) Reminds everyone in a policy campaign who has not acknowledged the policy yet, once every
 * `repeatEveryDays` after the campaign started (the start itself asked them). An acknowledgement
 * of any version with the same or a later major number counts; campaigns for a superseded major
 * version stop.
 */
export const remindPolicyAcknowledgements: JobPart = async (run) => {
  const pending = await run.db.select({ campaign: ackCampaigns, version: policyVersions, policy: policies, person: people })
    .from(ackCampaigns)
    .innerJoin(policyVersions, eq(policyVersions.id, ackCampaigns.policyVersionId))
    .innerJoin(policies, eq(policies.id, policyVersions.policyId))
    .innerJoin(ackCampaignAudience, eq(ackCampaignAudience.campaignId, ackCampaigns.id))
    .innerJoin(people, eq(people.id, ackCampaignAudience.personId))
    .where(and(
      eq(people.inScope, true),
      sql`${policyVersions.major} = (select max(v.major) from policy_versions v where v.policy_id = ${policies.id})`,
      sql`not exists (select 1 from policy_acknowledgements a join policy_versions v on v.id = a.policy_version_id
        where a.person_id = ${people.id} and v.policy_id = ${policies.id} and v.major >= ${policyVersions.major})`,
    ))
    .orderBy(ackCampaigns.id, people.id);
  const seen = new Set<string>();
  for (const { campaign, version, policy, person } of pending) {
    // Two campaigns for one policy remind a person once.
    const once = `${policy.id}:${person.id}`;
    if (seen.has(once) || run.isPaused(person)) continue;
    seen.add(once);
    const days = daysBetween(localDate(campaign.startedAt, run.settings.timezone), run.today);
    const round = Math.floor(days / run.settings.repeatEveryDays);
    if (round < 1) continue;
    run.count('policy reminders');
    run.hold({
      recipientId: person.id, itemRef: policy.ref, kind: 'policy_ack', campaignId: campaign.id,
      key: `policy_ack:${campaign.ref}:${person.id}:r${round}`,
      title: `${policy.ref} ${policy.title}, version ${version.version}: please read and acknowledge it`,
      detail: campaign.dueOn ? dueText(campaign.dueOn, run.today) : `asked on ${readersDay(campaign.startedAt, person.timezone)}`,
      button: { label: 'Acknowledge', command: `ack ${policy.ref}`, style: 'primary' },
    });
  }
};

export const remindPolicies = jobOf(remindPolicyAcknowledgements);
