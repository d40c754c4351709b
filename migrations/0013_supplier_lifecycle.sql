ALTER TABLE "suppliers" ADD COLUMN "contract_start" date;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "contract_end" date;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "exit_plan" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "last_review_on" date;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "last_review_outcome" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "last_review_note" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "lei" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "country" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "ict_service_type" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "substitutability" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "subcontractors" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_lei_format" CHECK ("lei" IS NULL OR "lei" ~ '^[0-9A-Z]{18}[0-9]{2}$');--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_country_format" CHECK ("country" IS NULL OR "country" ~ '^[A-Z]{2}$');--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_contract_dates" CHECK ("contract_start" IS NULL OR "contract_end" IS NULL OR "contract_end" >= "contract_start");--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "supplier_id" integer;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "iso42001_controls" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD CONSTRAINT "ai_tools_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;
