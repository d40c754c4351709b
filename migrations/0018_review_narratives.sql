CREATE TABLE "review_narratives" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"pack_id" integer NOT NULL,
	"text" text NOT NULL,
	"machine_generated" boolean NOT NULL,
	"model" text,
	"prompt_name" text,
	"prompt_version" text,
	"written_by" integer,
	"based_on" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "review_narratives_ref_unique" UNIQUE("ref"),
	-- A draft names the model and prompt that wrote it; a person's text names the person and no prompt.
	CONSTRAINT "review_narratives_origin_check" CHECK (
		("machine_generated" AND "model" IS NOT NULL AND "prompt_name" IS NOT NULL AND "prompt_version" IS NOT NULL AND "written_by" IS NULL AND "based_on" IS NULL)
		OR (NOT "machine_generated" AND "model" IS NULL AND "prompt_name" IS NULL AND "prompt_version" IS NULL AND "written_by" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "review_narratives" ADD CONSTRAINT "review_narratives_pack_id_review_packs_id_fk" FOREIGN KEY ("pack_id") REFERENCES "public"."review_packs"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "review_narratives" ADD CONSTRAINT "review_narratives_written_by_people_id_fk" FOREIGN KEY ("written_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "review_narratives" ADD CONSTRAINT "review_narratives_based_on_review_narratives_id_fk" FOREIGN KEY ("based_on") REFERENCES "public"."review_narratives"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "review_narratives_pack" ON "review_narratives" USING btree ("pack_id");
--> statement-breakpoint
-- One machine-generated draft per pack, however often the pack is asked for.
CREATE UNIQUE INDEX "review_narratives_one_draft" ON "review_narratives" USING btree ("pack_id") WHERE "machine_generated";
--> statement-breakpoint
-- An edit is a new row based on the one it edits: what the model wrote stays as it wrote it.
CREATE TRIGGER review_narratives_no_change BEFORE UPDATE OR DELETE ON review_narratives
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
