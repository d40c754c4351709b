-- The day an open milestone's owner is next reminded: the sweep reads the due ones by an index range
-- instead of every overdue milestone. The first reminder falls the day after the due date.
ALTER TABLE "poam_milestones" ADD COLUMN "next_reminder_on" date;
--> statement-breakpoint
-- Back-fill from the rule the sweep used (weekly once late, the default cadence): the current week's
-- reminder when it has not gone out yet, else the next week's.
UPDATE "poam_milestones" m SET "next_reminder_on" = CASE
  WHEN m."due_on" >= current_date THEN m."due_on" + 1
  ELSE m."due_on" + 1 + 7 * ((current_date - m."due_on" - 1) / 7 + CASE WHEN EXISTS (
    SELECT 1 FROM "nudge_log" l JOIN "poam_items" i ON i."id" = m."item_id"
    WHERE l."key" = 'poam_milestone:' || i."ref" || ':' || m."seq" || ':' || i."owner_id" || ':'
      || to_char(m."due_on", 'YYYY-MM-DD') || ':late' || ((current_date - m."due_on" - 1) / 7)) THEN 1 ELSE 0 END)
  END
WHERE m."done_at" IS NULL;
--> statement-breakpoint
-- A new milestone, one whose due date moves, or one reopened is first reminded the day after its (new)
-- due date, whichever path writes it (an import, a script); a done one has no next reminder, which
-- also keeps the column's statistics to the open ones the sweep's range is planned from.
CREATE OR REPLACE FUNCTION poam_milestones_next_reminder() RETURNS trigger AS $$
BEGIN
  IF NEW.done_at IS NOT NULL THEN
    NEW.next_reminder_on := NULL;
  ELSIF TG_OP = 'INSERT' THEN
    IF NEW.next_reminder_on IS NULL THEN NEW.next_reminder_on := NEW.due_on + 1; END IF;
  ELSIF NEW.due_on IS DISTINCT FROM OLD.due_on OR OLD.done_at IS NOT NULL THEN
    NEW.next_reminder_on := NEW.due_on + 1;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER poam_milestones_next_reminder BEFORE INSERT OR UPDATE OF due_on, done_at ON poam_milestones
  FOR EACH ROW EXECUTE FUNCTION poam_milestones_next_reminder();
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "poam_milestones_next_reminder" ON "poam_milestones" USING btree ("next_reminder_on","id") WHERE "done_at" IS NULL;
--> statement-breakpoint
-- Nudges a scheduler run has decided on, committed with the change that caused them, until the end of
-- the run groups each person's into one outbox message: a run commits in bounded batches, and one that
-- stops between them leaves its nudges here for the next run to send.
CREATE TABLE IF NOT EXISTS "scheduler_nudges" (
  "key" text PRIMARY KEY NOT NULL,
  "recipient_id" integer NOT NULL,
  "nudge" jsonb NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "scheduler_nudges_recipient" ON "scheduler_nudges" USING btree ("recipient_id");
--> statement-breakpoint
-- The digest counts the overdue milestones of open items from the index alone (due date and item),
-- without visiting the scattered table rows; it replaces the index on the due date only.
CREATE INDEX IF NOT EXISTS "poam_milestones_open_due_item" ON "poam_milestones" USING btree ("due_on","item_id") WHERE "done_at" IS NULL;
--> statement-breakpoint
DROP INDEX IF EXISTS "poam_milestones_open_due";
