-- The scheduler's sweeps find due work with one indexed query each; the partial indexes keep only live rows.
CREATE INDEX IF NOT EXISTS "evidence_requests_open_ladder" ON "evidence_requests" USING btree ("escalation_level","due_on") WHERE "status" = 'open';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_requests_open_due" ON "evidence_requests" USING btree ("due_on","id") WHERE "status" = 'open';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_requests_owner_status" ON "evidence_requests" USING btree ("owner_id","status");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_requests_cycle" ON "evidence_requests" USING btree ("cycle","control_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_items_request" ON "evidence_items" USING btree ("request_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_items_control" ON "evidence_items" USING btree ("control_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_items_submitted_at" ON "evidence_items" USING btree ("submitted_at");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_items_open_ladder" ON "poam_items" USING btree ("escalation_level","due_on") WHERE "status" in ('open', 'in_progress');
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_items_open_due" ON "poam_items" USING btree ("due_on","id") WHERE "status" in ('open', 'in_progress');
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_items_owner_status" ON "poam_items" USING btree ("owner_id","status");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_milestones_item" ON "poam_milestones" USING btree ("item_id","seq");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_milestones_open_due" ON "poam_milestones" USING btree ("due_on") WHERE "done_at" IS NULL;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_extensions_item" ON "poam_extensions" USING btree ("item_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_closures_item" ON "poam_closures" USING btree ("item_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "people_paused_until" ON "people" USING btree ("paused_until") WHERE "paused_until" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "people_manager" ON "people" USING btree ("manager_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "people_roles" ON "people" USING gin ("roles");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outbox_campaign_status" ON "outbox" USING btree ("campaign_id","status") WHERE "campaign_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outbox_failed" ON "outbox" USING btree ("id") WHERE "status" = 'failed';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "nudge_log_recipient" ON "nudge_log" USING btree ("recipient_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_events_entity_seq" ON "audit_events" USING btree ("entity","seq");
