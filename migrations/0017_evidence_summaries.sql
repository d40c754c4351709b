CREATE TABLE "evidence_summaries" (
	"id" serial PRIMARY KEY NOT NULL,
	"evidence_item_id" integer NOT NULL,
	"summary" text NOT NULL,
	"matches" text NOT NULL,
	"reason" text NOT NULL,
	"model" text NOT NULL,
	"prompt_name" text NOT NULL,
	"prompt_version" text NOT NULL,
	"machine_generated" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evidence_summaries_matches_check" CHECK ("matches" IN ('yes', 'partly', 'no', 'unclear')),
	CONSTRAINT "evidence_summaries_machine_generated_check" CHECK ("machine_generated")
);
--> statement-breakpoint
ALTER TABLE "evidence_summaries" ADD CONSTRAINT "evidence_summaries_evidence_item_id_evidence_items_id_fk" FOREIGN KEY ("evidence_item_id") REFERENCES "public"."evidence_items"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
CREATE UNIQUE INDEX "evidence_summaries_evidence_item" ON "evidence_summaries" USING btree ("evidence_item_id");
--> statement-breakpoint
CREATE TRIGGER evidence_summaries_no_change BEFORE UPDATE OR DELETE ON evidence_summaries
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
