-- Identical commands arriving together (no delivery id to tell them apart) are recorded once:
-- the register refuses a second live supplier of the same name, a second system proposal waiting
-- for triage, and a second attestation of one course by one person for one day.
CREATE UNIQUE INDEX "scope_changes_system_waiting" ON "scope_changes" USING btree ("kind",lower("subject")) WHERE "scope_changes"."status" = 'proposed' and "scope_changes"."kind" in ('new_system', 'retired_system');--> statement-breakpoint
CREATE UNIQUE INDEX "suppliers_name_live" ON "suppliers" USING btree (lower("name")) WHERE "suppliers"."status" <> 'rejected';--> statement-breakpoint
CREATE UNIQUE INDEX "training_attestations_person_course_day" ON "training_attestations" USING btree ("person_id","course_id","completed_on");