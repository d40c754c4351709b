-- The sweeps and the weekly digest count open items from the partial indexes alone (index-only scans),
-- which skip the table only on pages the visibility map marks all-visible. A daily run rewrites a few
-- hundred items and thousands of milestones, far below autovacuum's default trigger (20 % of a table:
-- 120,000 dead milestones, about a month of runs), so those pages stayed unmarked and every count went
-- to the table. Vacuuming after a hundred changed rows, or a thousand new ones, renews the map within
-- minutes of each run: cheap, as vacuum visits only the pages that changed.
ALTER TABLE "poam_items" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);
--> statement-breakpoint
ALTER TABLE "poam_milestones" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);
--> statement-breakpoint
ALTER TABLE "evidence_requests" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);
