ALTER TABLE "audit_events" ADD COLUMN "row_hash" text;--> statement-breakpoint
-- Row-level triggers do not fire on TRUNCATE, which would empty the trail in one statement and leave a
-- chain that verifies as "intact: 0 events". Refuse it for the trail and the append-only decision tables.
CREATE OR REPLACE FUNCTION refuse_truncate_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: it cannot be truncated', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_append_only();
--> statement-breakpoint
CREATE TRIGGER risk_acceptances_no_truncate BEFORE TRUNCATE ON risk_acceptances
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_append_only();
