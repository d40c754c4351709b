-- Listings page by seeking an index, and count what they show from it, rather than reading the whole table:
-- an owner's own risks; the approvals waiting, the open audit findings and the triage list, each from a
-- partial index of only the rows it shows; a control's or a request's evidence revisions, newest first.
CREATE INDEX IF NOT EXISTS "risks_owner" ON "risks" USING btree ("owner_id","id");
--> statement-breakpoint
-- The latest approval request about a thing, which a risks page looks up for each risk it shows.
CREATE INDEX IF NOT EXISTS "management_approvals_subject" ON "management_approvals" USING btree ("subject_kind","subject_ref","id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "management_approvals_waiting" ON "management_approvals" USING btree ("id") WHERE "status" = 'pending' AND "stale_at" IS NULL;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_findings_open" ON "audit_findings" USING btree ("id") WHERE "status" = 'open';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "scope_changes_proposed" ON "scope_changes" USING btree ("id") WHERE "status" = 'proposed';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_items_control_id" ON "evidence_items" USING btree ("control_id","id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_items_request_id" ON "evidence_items" USING btree ("request_id","id");
--> statement-breakpoint
-- The two above serve every query these served.
DROP INDEX IF EXISTS "evidence_items_control";
--> statement-breakpoint
DROP INDEX IF EXISTS "evidence_items_request";
