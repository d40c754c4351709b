CREATE TABLE "management_approvals" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_ref" text NOT NULL,
	"title" text NOT NULL,
	"state" jsonb NOT NULL,
	"state_sha256" text NOT NULL,
	"requested_by" integer NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"decided_by" integer,
	"decided_at" timestamp with time zone,
	"rationale" text,
	"stale_at" timestamp with time zone,
	"stale_reason" text,
	CONSTRAINT "management_approvals_ref_unique" UNIQUE("ref")
);--> statement-breakpoint
ALTER TABLE "management_approvals" ADD CONSTRAINT "management_approvals_requested_by_people_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "management_approvals" ADD CONSTRAINT "management_approvals_decided_by_people_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "management_approvals_one_pending" ON "management_approvals" USING btree ("subject_kind","subject_ref") WHERE "management_approvals"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "scope_statements" ADD COLUMN "proposed_by" integer;--> statement-breakpoint
ALTER TABLE "scope_statements" ADD CONSTRAINT "scope_statements_proposed_by_people_id_fk" FOREIGN KEY ("proposed_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;
