-- `campaign status` seeks each of its lists in name order as every database orders it, whatever its
-- locale: lower(name collate "C") (nameKey in src/core/actor.ts), ASCII letters case-blind, every other
-- character by its code point. The planner uses an expression index only for the identical expression.
CREATE INDEX IF NOT EXISTS "people_name_key" ON "people" USING btree (lower("name" COLLATE "C"), "id");
--> statement-breakpoint
-- The index by name in the database's own collation (0027) served only that list, which no longer orders so.
DROP INDEX IF EXISTS "people_name";
