-- A risk appetite proposed in chat is not in force (has no approval time) until the management body approves it.
ALTER TABLE "risk_appetite" ALTER COLUMN "approved_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "risk_appetite" ADD COLUMN "proposed_by" integer REFERENCES "public"."people"("id");--> statement-breakpoint
ALTER TABLE "risk_appetite" ADD COLUMN "proposed_at" timestamp with time zone;--> statement-breakpoint
-- Accepting a risk again links the new decision to the one it replaces, instead of changing the old row.
ALTER TABLE "risk_acceptances" ADD COLUMN "supersedes" integer REFERENCES "public"."risk_acceptances"("id");--> statement-breakpoint
ALTER TABLE "risk_acceptances" ADD COLUMN "approval_id" integer REFERENCES "public"."management_approvals"("id");--> statement-breakpoint
CREATE UNIQUE INDEX "risk_acceptances_supersedes_once" ON "risk_acceptances" USING btree ("supersedes");--> statement-breakpoint
CREATE TABLE "risk_acceptance_proposals" (
	"id" serial PRIMARY KEY NOT NULL,
	"risk_id" integer NOT NULL REFERENCES "public"."risks"("id"),
	"rationale" text NOT NULL,
	"expires_on" timestamp with time zone NOT NULL,
	"proposed_by" integer NOT NULL REFERENCES "public"."people"("id"),
	"proposed_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE TABLE "risk_assessments" (
	"id" serial PRIMARY KEY NOT NULL,
	"risk_id" integer NOT NULL REFERENCES "public"."risks"("id"),
	"assessed_by" integer NOT NULL REFERENCES "public"."people"("id"),
	"assessed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"likelihood_before" integer,
	"impact_before" integer,
	"inherent_score_before" integer,
	"residual_score_before" integer,
	"likelihood_after" integer NOT NULL,
	"impact_after" integer NOT NULL,
	"inherent_score_after" integer NOT NULL,
	"residual_score_after" integer NOT NULL,
	"rationale" text NOT NULL
);--> statement-breakpoint
CREATE TABLE "risk_assets" (
	"risk_id" integer NOT NULL REFERENCES "public"."risks"("id"),
	"asset_id" integer NOT NULL REFERENCES "public"."assets"("id"),
	CONSTRAINT "risk_assets_risk_id_asset_id_pk" PRIMARY KEY("risk_id","asset_id")
);--> statement-breakpoint
CREATE TABLE "risk_controls" (
	"risk_id" integer NOT NULL REFERENCES "public"."risks"("id"),
	"control_id" integer NOT NULL REFERENCES "public"."controls"("id"),
	CONSTRAINT "risk_controls_risk_id_control_id_pk" PRIMARY KEY("risk_id","control_id")
);--> statement-breakpoint
-- Proposals and reassessments are history: never edited or removed (see 0003).
CREATE TRIGGER risk_acceptance_proposals_no_change BEFORE UPDATE OR DELETE ON risk_acceptance_proposals
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();--> statement-breakpoint
CREATE TRIGGER risk_assessments_no_change BEFORE UPDATE OR DELETE ON risk_assessments
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
