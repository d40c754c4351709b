-- Assets and interested parties are retired, never deleted: the row stays with when and why.
ALTER TABLE "assets" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "assets" ADD COLUMN "retired_reason" text;--> statement-breakpoint
ALTER TABLE "interested_parties" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "interested_parties" ADD COLUMN "retired_reason" text;
