-- Risk acceptance decisions are append-only: a decision is never edited or removed, a new one is recorded instead.
-- A generic refusal (naming the table) so other append-only register tables can use it too.
CREATE OR REPLACE FUNCTION refuse_change_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: record a new row instead of changing or deleting one', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER risk_acceptances_no_change BEFORE UPDATE OR DELETE ON risk_acceptances
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
