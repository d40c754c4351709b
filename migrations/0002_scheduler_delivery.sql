CREATE TABLE "nudge_log" (
	"key" text PRIMARY KEY NOT NULL,
	"outbox_id" integer NOT NULL,
	"item_ref" text NOT NULL,
	"recipient_id" integer NOT NULL,
	"step" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scheduler_runs" (
	"job" text NOT NULL,
	"fire_at" timestamp with time zone NOT NULL,
	"ran_at" timestamp with time zone DEFAULT now() NOT NULL,
	"summary" jsonb,
	CONSTRAINT "scheduler_runs_job_fire_at_pk" PRIMARY KEY("job","fire_at")
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "platform" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "claimed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "nudge_log" ADD CONSTRAINT "nudge_log_outbox_id_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "nudge_log_item" ON "nudge_log" USING btree ("item_ref");--> statement-breakpoint
CREATE INDEX "outbox_recipient" ON "outbox" USING btree ("recipient_id","status");--> statement-breakpoint
CREATE INDEX "outbox_platform_claimed" ON "outbox" USING btree ("platform","claimed_at");