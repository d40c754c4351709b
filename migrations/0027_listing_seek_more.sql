-- `poam` and `poam --all` page by seeking (due date, id) among the items they list (open, in progress and
-- awaiting verification), and count them, from an index of just those items rather than every item.
CREATE INDEX IF NOT EXISTS "poam_items_listed" ON "poam_items" USING btree ("due_on","id") WHERE "status" IN ('open', 'in_progress', 'awaiting_verification');
--> statement-breakpoint
-- `campaign status` seeks each of its two lists (not yet acknowledged, acknowledged) in name order.
CREATE INDEX IF NOT EXISTS "people_name" ON "people" USING btree ("name","id");
