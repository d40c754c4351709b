-- The day the training-reminder sweep next looks at each obligation (a person a course applies to): the
-- sweep reads the due ones by an index range instead of every person and course, and after looking writes
-- the next day anything can change (the next round for someone who never attested, the next threshold or
-- the expiry of an attestation, the end of someone's leave). '-infinity' means "look at the next run":
-- whatever changes an obligation (a new person, course or attestation, a role, scope, leave or start date
-- changed) sets it, whichever path writes it; 'infinity' means nothing more is due until one of those.
CREATE TABLE IF NOT EXISTS "training_reminders" (
  "person_id" integer NOT NULL REFERENCES "people"("id") ON DELETE CASCADE,
  "course_id" integer NOT NULL REFERENCES "training_courses"("id") ON DELETE CASCADE,
  "next_on" date DEFAULT '-infinity' NOT NULL,
  PRIMARY KEY ("person_id", "course_id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "training_reminders_next_on" ON "training_reminders" USING btree ("next_on", "person_id", "course_id");
--> statement-breakpoint
-- The reminder settings (time zone, cadence, thresholds) the remembered days were worked out with: the
-- sweep looks at every obligation again once they change.
CREATE TABLE IF NOT EXISTS "training_reminder_settings" (
  "settings" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
-- Every obligation of the register as it stands, looked at by the next run.
INSERT INTO "training_reminders" ("person_id", "course_id")
SELECT p."id", c."id" FROM "training_courses" c
JOIN "people" p ON (c."audience_role" IS NULL AND p."in_scope") OR c."audience_role" = ANY(p."roles")
ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION people_training_reminders() RETURNS trigger AS $$
BEGIN
  INSERT INTO training_reminders (person_id, course_id)
  SELECT NEW.id, c.id FROM training_courses c WHERE (c.audience_role IS NULL AND NEW.in_scope) OR c.audience_role = ANY(NEW.roles)
  ON CONFLICT (person_id, course_id) DO UPDATE SET next_on = '-infinity';
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER people_training_reminders AFTER INSERT ON people
  FOR EACH ROW EXECUTE FUNCTION people_training_reminders();
--> statement-breakpoint
CREATE TRIGGER people_training_reminders_changed AFTER UPDATE OF roles, in_scope, paused_until, created_at ON people
  FOR EACH ROW WHEN (OLD.roles IS DISTINCT FROM NEW.roles OR OLD.in_scope IS DISTINCT FROM NEW.in_scope
    OR OLD.paused_until IS DISTINCT FROM NEW.paused_until OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION people_training_reminders();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION training_courses_reminders() RETURNS trigger AS $$
BEGIN
  INSERT INTO training_reminders (person_id, course_id)
  SELECT p.id, NEW.id FROM people p WHERE (NEW.audience_role IS NULL AND p.in_scope) OR NEW.audience_role = ANY(p.roles)
  ON CONFLICT (person_id, course_id) DO UPDATE SET next_on = '-infinity';
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER training_courses_reminders AFTER INSERT ON training_courses
  FOR EACH ROW EXECUTE FUNCTION training_courses_reminders();
--> statement-breakpoint
CREATE TRIGGER training_courses_reminders_changed AFTER UPDATE OF audience_role, created_at ON training_courses
  FOR EACH ROW WHEN (OLD.audience_role IS DISTINCT FROM NEW.audience_role OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION training_courses_reminders();
--> statement-breakpoint
-- A new, changed or removed attestation may change the latest one, hence the reminders due.
CREATE OR REPLACE FUNCTION training_attestations_reminders() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE training_reminders SET next_on = '-infinity' WHERE person_id = OLD.person_id AND course_id = OLD.course_id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    UPDATE training_reminders SET next_on = '-infinity' WHERE person_id = NEW.person_id AND course_id = NEW.course_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER training_attestations_reminders AFTER INSERT OR UPDATE OR DELETE ON training_attestations
  FOR EACH ROW EXECUTE FUNCTION training_attestations_reminders();
