-- The person the ISMS lead names to accept or send back a control's evidence, besides the lead.
ALTER TABLE "controls" ADD COLUMN "evidence_reviewer_id" integer;--> statement-breakpoint
ALTER TABLE "controls" ADD CONSTRAINT "controls_evidence_reviewer_id_people_id_fk" FOREIGN KEY ("evidence_reviewer_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;
