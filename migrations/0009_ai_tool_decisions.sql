ALTER TABLE "ai_tools" ADD COLUMN "conditions" text;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "duplicate_of" text;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "decided_by" integer;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "management_approved_by" integer;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD COLUMN "management_approved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD CONSTRAINT "ai_tools_decided_by_people_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD CONSTRAINT "ai_tools_management_approved_by_people_id_fk" FOREIGN KEY ("management_approved_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;
