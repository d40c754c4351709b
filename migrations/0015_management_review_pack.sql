CREATE TABLE "review_packs" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"prepared_by" integer NOT NULL,
	"prepared_at" timestamp with time zone DEFAULT now() NOT NULL,
	"document" text NOT NULL,
	"document_sha256" text NOT NULL,
	"charts" jsonb NOT NULL,
	CONSTRAINT "review_packs_ref_unique" UNIQUE("ref")
);--> statement-breakpoint
ALTER TABLE "review_packs" ADD CONSTRAINT "review_packs_prepared_by_people_id_fk" FOREIGN KEY ("prepared_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- A pack is what the management body was given: it is never edited; a new one is prepared instead.
CREATE TRIGGER review_packs_no_change BEFORE UPDATE OR DELETE ON review_packs
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();--> statement-breakpoint
ALTER TABLE "management_reviews" ADD COLUMN "chair_id" integer;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD COLUMN "pack_id" integer;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD COLUMN "status" text DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD COLUMN "closed_by" integer;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD COLUMN "closed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD CONSTRAINT "management_reviews_chair_id_people_id_fk" FOREIGN KEY ("chair_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD CONSTRAINT "management_reviews_pack_id_review_packs_id_fk" FOREIGN KEY ("pack_id") REFERENCES "public"."review_packs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "management_reviews" ADD CONSTRAINT "management_reviews_closed_by_people_id_fk" FOREIGN KEY ("closed_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD COLUMN "poam_item_id" integer;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD CONSTRAINT "review_decisions_poam_item_id_poam_items_id_fk" FOREIGN KEY ("poam_item_id") REFERENCES "public"."poam_items"("id") ON DELETE no action ON UPDATE no action;
