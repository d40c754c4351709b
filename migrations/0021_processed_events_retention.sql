-- Platform deliveries are kept only as long as a platform may retry them; the pruning job deletes
-- the oldest first, so it finds them by age.
CREATE INDEX "processed_events_at" ON "processed_events" USING btree ("at");
