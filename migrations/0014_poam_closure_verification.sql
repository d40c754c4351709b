-- The due date a POA&M item was first given: extensions move due_on, this one stays.
ALTER TABLE "poam_items" ADD COLUMN "original_due_on" date;--> statement-breakpoint
UPDATE "poam_items" i SET "original_due_on" = COALESCE(
  (SELECT e."previous_due_on" FROM "poam_extensions" e WHERE e."item_id" = i."id" AND e."status" = 'approved' ORDER BY e."id" LIMIT 1),
  i."due_on");--> statement-breakpoint
ALTER TABLE "poam_items" ALTER COLUMN "original_due_on" SET NOT NULL;--> statement-breakpoint
-- Every way of opening an item (commands, import, SQL) gets its first due date recorded without having to name it.
CREATE OR REPLACE FUNCTION poam_items_original_due_on() RETURNS trigger AS $$
BEGIN
  IF NEW.original_due_on IS NULL THEN
    NEW.original_due_on := NEW.due_on;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER poam_items_original_due_on BEFORE INSERT ON poam_items
  FOR EACH ROW EXECUTE FUNCTION poam_items_original_due_on();
--> statement-breakpoint
CREATE TABLE "poam_closures" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"item_id" integer NOT NULL,
	"text" text,
	"link" text,
	"file_name" text,
	"file_size" bigint,
	"file_sha256" text,
	"submitted_by" integer NOT NULL,
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'awaiting_verification' NOT NULL,
	"decided_by" integer,
	"decided_at" timestamp with time zone,
	"decision_note" text,
	CONSTRAINT "poam_closures_ref_unique" UNIQUE("ref")
);--> statement-breakpoint
ALTER TABLE "poam_closures" ADD CONSTRAINT "poam_closures_item_id_poam_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."poam_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_closures" ADD CONSTRAINT "poam_closures_submitted_by_people_id_fk" FOREIGN KEY ("submitted_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_closures" ADD CONSTRAINT "poam_closures_decided_by_people_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- One claim at a time waits for verification.
CREATE UNIQUE INDEX "poam_closures_one_awaiting" ON "poam_closures" USING btree ("item_id") WHERE "poam_closures"."status" = 'awaiting_verification';--> statement-breakpoint
CREATE TABLE "poam_closure_file_chunks" (
	"closure_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	CONSTRAINT "poam_closure_file_chunks_closure_id_seq_pk" PRIMARY KEY("closure_id","seq")
);
--> statement-breakpoint
ALTER TABLE "poam_closure_file_chunks" ADD CONSTRAINT "poam_closure_file_chunks_closure_id_poam_closures_id_fk" FOREIGN KEY ("closure_id") REFERENCES "public"."poam_closures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Closure evidence is kept as submitted, like evidence files.
CREATE TRIGGER poam_closure_file_chunks_no_change BEFORE UPDATE OR DELETE ON poam_closure_file_chunks
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
--> statement-breakpoint
CREATE TRIGGER poam_closure_file_chunks_no_truncate BEFORE TRUNCATE ON poam_closure_file_chunks
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_append_only();
