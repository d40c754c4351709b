import { buildAssessmentResults } from './assessment-results.js';
import { buildPoam } from './poam.js';
import { assertValidOscal } from './validate.js';
/** A document export whose build is checked against its model's schema before anyone gets it. */
function oscalDocument(name, title, model, build, contents) {
    return {
        name, title, contents,
        async build(db, now) {
            const built = await build(db, now);
            assertValidOscal(model, built.document);
            return built;
        },
    };
}
const oscalPoam = oscalDocument('oscal-poam', 'OSCAL plan of action and milestones', 'plan-of-action-and-milestones', buildPoam, [
    '`metadata`: title, `last-modified` (the moment of export), `version` (its day), `oscal-version` 1.2.1; the roles people hold (ISMS lead, management body, control owner, asset owner, auditor), a party for the organisation (its remarks: the ISMS scope) and one per person the document names or who holds one of those roles, and `responsible-parties` linking them.',
    '`system-id`: one identifier for the ISMS (there is no separate system security plan to import).',
    '`poam-items`: one per POA&M item, titled with its reference; props (namespace `urn:isms-bot:oscal`) `poam-item`, `status`, `due-on`, `source`, `source-reference`, `owner` (email), `escalation-level`, `completed-at`, `milestones` (how many); `origins` the owner; `related-risks`, `related-findings` (an audit finding it came from), `related-observations` (the evidence answering an evidence request it came from); `remarks` the extension history (requested and decided, by whom, why).',
    '`risks`: each register risk a POA&M item treats, with `status` (open, deviation-approved for accepted, closed), `characterizations` whose facets are `likelihood`, `impact`, `inherent-score` and `residual-score` (system `urn:isms-bot:oscal`), and a `remediation` per POA&M item whose `tasks` are its milestones (type `milestone`, `timing` within the item\'s creation and the milestone\'s due day, done milestones with `done-at`). An item not from a register risk has a risk of its own for its weakness, carrying its remediation the same way.',
    '`findings`: the audit findings POA&M items came from; target the clause, `not-satisfied` while a nonconformity is open.',
    '`observations`: every evidence revision (method `EXAMINE`), collected when submitted, with `relevant-evidence` pointing at its file in the back matter (`#uuid`), its link, or its text.',
    '`back-matter`: a resource per evidence file, with an `rlink` to the file as an evidence bundle names it (`evidence/EV-0003-access-review.pdf`, see below) and `hashes` `{ "algorithm": "SHA-256", "value": … }` as recorded at submission (what `verify` checks).',
]);
const oscalAssessmentResults = oscalDocument('oscal-assessment-results', 'OSCAL assessment results', 'assessment-results', buildAssessmentResults, [
    '`metadata` as in the plan of action and milestones.',
    '`import-ap`: a placeholder (`urn:isms-bot:oscal:continuous-assessment`): the register assesses continuously, there is no separate assessment plan.',
    '`results`: one result, the control set now (`start` and `end` the moment of export); `reviewed-controls` includes the applicable internal controls by code and excludes the others.',
    '`findings`: one per applicable control, target `objective-id` the control code, `status` `satisfied` (reason `pass`) when it is implemented and its evidence is fresh, else `not-satisfied` (reason `fail`), `implementation-status` implemented or planned, all derived as the statement of applicability derives them (see the README); props `implementation`, `evidence` (fresh, stale, none), `latest-evidence-on`, `evidence-frequency`, `owner`; `related-observations` the control\'s evidence revisions.',
    '`observations` and `back-matter`: the evidence revisions and files, as in the plan of action and milestones.',
]);
export const OSCAL_DOCUMENTS = [oscalPoam, oscalAssessmentResults];
//# sourceMappingURL=documents.js.map