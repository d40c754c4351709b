-- The lead's `status` and the management review pack count the acknowledgements of the policy versions in
-- force by people in scope (programmeFigures): the acknowledgements of those versions, read by version from
-- this index alone, less those of the people outside ISMS scope, rather than every acknowledgement of those
-- versions matched against every person in scope.
CREATE INDEX IF NOT EXISTS "policy_ack_version_person" ON "policy_acknowledgements" USING btree ("policy_version_id","person_id");
--> statement-breakpoint
-- The people outside ISMS scope (few), whose acknowledgements are found by person (policy_ack_person_version).
CREATE INDEX IF NOT EXISTS "people_out_of_scope" ON "people" USING btree ("id") WHERE NOT "in_scope";
--> statement-breakpoint
-- Counted from the index alone, which skips the table only on pages marked all-visible: a campaign adds tens
-- of thousands of acknowledgements, far below autovacuum's default trigger (20 % of the table); as 0023 does
-- for the sweeps' tables, vacuuming after a hundred changed rows or a thousand new ones renews the map.
ALTER TABLE "policy_acknowledgements" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);
