-- The day an item last moved up its escalation ladder: a sweep re-run that day (after a stop between its
-- batches, or fired again) finds it already moved and moves it no further until the next day.
ALTER TABLE "evidence_requests" ADD COLUMN IF NOT EXISTS "escalated_on" date;
--> statement-breakpoint
ALTER TABLE "poam_items" ADD COLUMN IF NOT EXISTS "escalated_on" date;
