-- Where each person stands on each course, kept by triggers so that counting completion reads an index
-- rather than every attestation: one row per person and course that either applies to them (applies, as
-- courseAppliesTo says) or that they ever attested, with the expiry of their latest attestation (by
-- completion day, then id: the one lists and reminders show; null when never attested) and the furthest
-- expiry of all of them (a later completion can expire earlier, once a course's validity was shortened).
CREATE TABLE IF NOT EXISTS "training_standing" (
  "person_id" integer NOT NULL REFERENCES "people"("id") ON DELETE CASCADE,
  "course_id" integer NOT NULL REFERENCES "training_courses"("id") ON DELETE CASCADE,
  "applies" boolean DEFAULT false NOT NULL,
  "expires_on" date,
  "furthest_on" date,
  PRIMARY KEY ("person_id", "course_id")
);
--> statement-breakpoint
-- Each course's obligations and how many of them are met today, counted from this index alone.
CREATE INDEX IF NOT EXISTS "training_standing_course" ON "training_standing" USING btree ("course_id", "expires_on") WHERE "applies";
--> statement-breakpoint
-- The attested ones whose every attestation has expired.
CREATE INDEX IF NOT EXISTS "training_standing_furthest" ON "training_standing" USING btree ("furthest_on") WHERE "furthest_on" IS NOT NULL;
--> statement-breakpoint
-- Counted from the indexes alone, which skip the table only on pages marked all-visible: as 0023 does for
-- the sweeps' tables, autovacuum renews the map after a hundred changed rows or a thousand new ones.
ALTER TABLE "training_standing" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);
--> statement-breakpoint
-- The attestations that came in since a day (the weekly digest's count), read by an index range.
CREATE INDEX IF NOT EXISTS "training_attestations_attested_at" ON "training_attestations" USING btree ("attested_at");
--> statement-breakpoint
-- Works out again where the given people stand on the given courses (pairs, each once). Their rows are
-- made and locked first, so that a concurrent change of the same pair waits and then reads this one's.
CREATE OR REPLACE FUNCTION training_standing_refresh(persons integer[], courses integer[]) RETURNS void AS $$
BEGIN
  INSERT INTO training_standing (person_id, course_id)
  SELECT s.person_id, s.course_id FROM unnest(persons, courses) AS s(person_id, course_id)
  JOIN people p ON p.id = s.person_id JOIN training_courses c ON c.id = s.course_id
  ORDER BY s.person_id, s.course_id
  ON CONFLICT (person_id, course_id) DO NOTHING;
  PERFORM 1 FROM training_standing t JOIN unnest(persons, courses) AS s(person_id, course_id)
    ON t.person_id = s.person_id AND t.course_id = s.course_id
  ORDER BY t.person_id, t.course_id FOR UPDATE OF t;
  UPDATE training_standing t SET applies = v.applies, expires_on = v.expires_on, furthest_on = v.furthest_on
  FROM (
    SELECT s.person_id, s.course_id,
      coalesce((c.audience_role IS NULL AND p.in_scope) OR c.audience_role = ANY(p.roles), false) AS applies,
      (SELECT a.expires_on FROM training_attestations a WHERE a.person_id = s.person_id AND a.course_id = s.course_id
        ORDER BY a.completed_on DESC, a.id DESC LIMIT 1) AS expires_on,
      (SELECT max(a.expires_on) FROM training_attestations a WHERE a.person_id = s.person_id AND a.course_id = s.course_id) AS furthest_on
    FROM unnest(persons, courses) AS s(person_id, course_id)
    JOIN people p ON p.id = s.person_id JOIN training_courses c ON c.id = s.course_id
  ) v
  WHERE t.person_id = v.person_id AND t.course_id = v.course_id
    AND (t.applies, t.expires_on, t.furthest_on) IS DISTINCT FROM (v.applies, v.expires_on, v.furthest_on);
  DELETE FROM training_standing t USING unnest(persons, courses) AS s(person_id, course_id)
  WHERE t.person_id = s.person_id AND t.course_id = s.course_id AND NOT t.applies AND t.furthest_on IS NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
-- Every pair of the register as it stands.
INSERT INTO "training_standing" ("person_id", "course_id", "applies", "expires_on", "furthest_on")
SELECT coalesce(o.person_id, l.person_id), coalesce(o.course_id, l.course_id), o.person_id IS NOT NULL, l.expires_on, l.furthest_on
FROM (
  SELECT p."id" AS person_id, c."id" AS course_id FROM "training_courses" c
  JOIN "people" p ON (c."audience_role" IS NULL AND p."in_scope") OR c."audience_role" = ANY(p."roles")
) o
FULL JOIN (
  SELECT DISTINCT ON (a."person_id", a."course_id") a."person_id", a."course_id", a."expires_on",
    max(a."expires_on") OVER (PARTITION BY a."person_id", a."course_id") AS furthest_on
  FROM "training_attestations" a
  ORDER BY a."person_id", a."course_id", a."completed_on" DESC, a."id" DESC
) l ON l.person_id = o.person_id AND l.course_id = o.course_id
ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION people_training_standing() RETURNS trigger AS $$
BEGIN
  PERFORM training_standing_refresh(array_agg(NEW.id ORDER BY c.id), array_agg(c.id ORDER BY c.id)) FROM training_courses c;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER people_training_standing AFTER INSERT ON people
  FOR EACH ROW EXECUTE FUNCTION people_training_standing();
--> statement-breakpoint
CREATE TRIGGER people_training_standing_changed AFTER UPDATE OF roles, in_scope ON people
  FOR EACH ROW WHEN (OLD.roles IS DISTINCT FROM NEW.roles OR OLD.in_scope IS DISTINCT FROM NEW.in_scope)
  EXECUTE FUNCTION people_training_standing();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION training_courses_standing() RETURNS trigger AS $$
BEGIN
  PERFORM training_standing_refresh(array_agg(p.id ORDER BY p.id), array_agg(NEW.id ORDER BY p.id)) FROM people p
  WHERE (NEW.audience_role IS NULL AND p.in_scope) OR NEW.audience_role = ANY(p.roles)
    OR EXISTS (SELECT 1 FROM training_standing t WHERE t.person_id = p.id AND t.course_id = NEW.id);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER training_courses_standing AFTER INSERT ON training_courses
  FOR EACH ROW EXECUTE FUNCTION training_courses_standing();
--> statement-breakpoint
CREATE TRIGGER training_courses_standing_changed AFTER UPDATE OF audience_role ON training_courses
  FOR EACH ROW WHEN (OLD.audience_role IS DISTINCT FROM NEW.audience_role)
  EXECUTE FUNCTION training_courses_standing();
--> statement-breakpoint
-- Attestations written, changed or removed, one statement at a time (an import or a bulk load is one refresh).
CREATE OR REPLACE FUNCTION training_attestations_standing() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM training_standing_refresh(array_agg(person_id ORDER BY person_id, course_id), array_agg(course_id ORDER BY person_id, course_id))
    FROM (SELECT DISTINCT person_id, course_id FROM new_rows) s;
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM training_standing_refresh(array_agg(person_id ORDER BY person_id, course_id), array_agg(course_id ORDER BY person_id, course_id))
    FROM (SELECT person_id, course_id FROM new_rows UNION SELECT person_id, course_id FROM old_rows) s;
  ELSE
    PERFORM training_standing_refresh(array_agg(person_id ORDER BY person_id, course_id), array_agg(course_id ORDER BY person_id, course_id))
    FROM (SELECT DISTINCT person_id, course_id FROM old_rows) s;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER training_attestations_standing_insert AFTER INSERT ON training_attestations
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION training_attestations_standing();
--> statement-breakpoint
CREATE TRIGGER training_attestations_standing_update AFTER UPDATE ON training_attestations
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION training_attestations_standing();
--> statement-breakpoint
CREATE TRIGGER training_attestations_standing_delete AFTER DELETE ON training_attestations
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION training_attestations_standing();
