CREATE TABLE "chat_addresses" (
	"id" serial PRIMARY KEY NOT NULL,
	"person_id" integer NOT NULL,
	"platform" text NOT NULL,
	"address" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "people" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"slack_user_id" text,
	"teams_aad_object_id" text,
	"roles" text[] DEFAULT '{}' NOT NULL,
	"manager_id" integer,
	"timezone" text,
	"in_scope" boolean DEFAULT true NOT NULL,
	"paused_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "people_email_unique" UNIQUE("email"),
	CONSTRAINT "people_slack_user_id_unique" UNIQUE("slack_user_id"),
	CONSTRAINT "people_teams_aad_object_id_unique" UNIQUE("teams_aad_object_id")
);
--> statement-breakpoint
CREATE TABLE "assets" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"owner_id" integer,
	"classification" text DEFAULT 'internal' NOT NULL,
	"protection_requirement" text DEFAULT 'normal' NOT NULL,
	"in_scope" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "assets_ref_unique" UNIQUE("ref"),
	CONSTRAINT "assets_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "interested_parties" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text,
	"needs" text,
	"reviewed_on" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scope_changes" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"description" text,
	"subject_ref" text,
	"declared_by" integer NOT NULL,
	"declared_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'proposed' NOT NULL,
	"decided_by" integer,
	"decided_at" timestamp with time zone,
	"rationale" text,
	CONSTRAINT "scope_changes_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "scope_statements" (
	"id" serial PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"text" text NOT NULL,
	"approved_by" integer,
	"approved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scope_statements_version_unique" UNIQUE("version")
);
--> statement-breakpoint
CREATE TABLE "ai_tools" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"name" text NOT NULL,
	"vendor" text,
	"purpose" text,
	"data_categories" text[] DEFAULT '{}' NOT NULL,
	"user_count" integer,
	"status" text DEFAULT 'declared' NOT NULL,
	"declared_by" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_tools_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "suppliers" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"name" text NOT NULL,
	"service" text,
	"ict_service" boolean DEFAULT false NOT NULL,
	"supports_critical_function" boolean DEFAULT false NOT NULL,
	"data_access" text DEFAULT 'none' NOT NULL,
	"criticality_tier" text DEFAULT 'tier3_standard' NOT NULL,
	"contract_ref" text,
	"exit_strategy" boolean DEFAULT false NOT NULL,
	"owner_id" integer,
	"next_review_on" date,
	"status" text DEFAULT 'declared' NOT NULL,
	"declared_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suppliers_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "risk_acceptances" (
	"id" serial PRIMARY KEY NOT NULL,
	"risk_id" integer NOT NULL,
	"residual_score_at_decision" integer NOT NULL,
	"decision" text NOT NULL,
	"rationale" text NOT NULL,
	"decided_by" integer NOT NULL,
	"decided_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_on" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "risk_appetite" (
	"id" serial PRIMARY KEY NOT NULL,
	"max_residual_score" integer NOT NULL,
	"statement" text NOT NULL,
	"approved_by" integer,
	"approved_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risks" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"asset_id" integer,
	"scope_area" text,
	"threat_ref" text,
	"likelihood" integer NOT NULL,
	"impact" integer NOT NULL,
	"inherent_score" integer NOT NULL,
	"residual_score" integer NOT NULL,
	"treatment" text NOT NULL,
	"owner_id" integer,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "risks_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "control_mappings" (
	"control_id" integer NOT NULL,
	"requirement_id" integer NOT NULL,
	CONSTRAINT "control_mappings_control_id_requirement_id_pk" PRIMARY KEY("control_id","requirement_id")
);
--> statement-breakpoint
CREATE TABLE "controls" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"owner_id" integer,
	"evidence_frequency" text DEFAULT 'quarterly' NOT NULL,
	"applicable" boolean DEFAULT true NOT NULL,
	"justification" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "controls_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "framework_requirements" (
	"id" serial PRIMARY KEY NOT NULL,
	"framework" text NOT NULL,
	"reference" text NOT NULL,
	"title" text,
	"parent_reference" text
);
--> statement-breakpoint
CREATE TABLE "requirement_crosswalks" (
	"id" serial PRIMARY KEY NOT NULL,
	"source_framework" text NOT NULL,
	"source_reference" text NOT NULL,
	"target_framework" text NOT NULL,
	"target_reference" text NOT NULL,
	"relationship" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "evidence_items" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"request_id" integer,
	"control_id" integer NOT NULL,
	"revision" integer NOT NULL,
	"submitted_by" integer NOT NULL,
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"effective_on" date NOT NULL,
	"text" text,
	"link" text,
	"file_name" text,
	"file_size" bigint,
	"file_sha256" text,
	"file_bytes" "bytea",
	"channel" text NOT NULL,
	CONSTRAINT "evidence_items_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "evidence_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"control_id" integer NOT NULL,
	"owner_id" integer NOT NULL,
	"due_on" date NOT NULL,
	"cycle" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"escalation_level" integer DEFAULT 0 NOT NULL,
	"requested_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evidence_requests_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "ack_campaign_audience" (
	"campaign_id" integer NOT NULL,
	"person_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ack_campaigns" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"policy_version_id" integer NOT NULL,
	"audience" text NOT NULL,
	"started_by" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"due_on" date,
	CONSTRAINT "ack_campaigns_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"title" text NOT NULL,
	"owner_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policies_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "policy_acknowledgements" (
	"id" serial PRIMARY KEY NOT NULL,
	"person_id" integer NOT NULL,
	"policy_version_id" integer NOT NULL,
	"content_sha256" text NOT NULL,
	"acknowledged_at" timestamp with time zone DEFAULT now() NOT NULL,
	"channel" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"policy_id" integer NOT NULL,
	"version" text NOT NULL,
	"major" integer NOT NULL,
	"minor" integer NOT NULL,
	"content" text NOT NULL,
	"content_sha256" text NOT NULL,
	"url" text,
	"approved_by" integer,
	"approved_at" timestamp with time zone,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "training_attestations" (
	"id" serial PRIMARY KEY NOT NULL,
	"person_id" integer NOT NULL,
	"course_id" integer NOT NULL,
	"completed_on" date NOT NULL,
	"expires_on" date NOT NULL,
	"evidence_ref" text,
	"attested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"channel" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "training_courses" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"title" text NOT NULL,
	"audience_role" text,
	"validity_months" integer DEFAULT 12 NOT NULL,
	"legal_basis" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "training_courses_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "audit_findings" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"type" text NOT NULL,
	"clause" text,
	"description" text NOT NULL,
	"root_cause" text,
	"corrective_action" text,
	"status" text DEFAULT 'open' NOT NULL,
	"raised_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_findings_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "management_reviews" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"held_on" date NOT NULL,
	"attendees" jsonb NOT NULL,
	"inputs" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "management_reviews_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "poam_extensions" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"item_id" integer NOT NULL,
	"previous_due_on" date NOT NULL,
	"requested_due_on" date NOT NULL,
	"reason" text NOT NULL,
	"requested_by" integer NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'requested' NOT NULL,
	"decided_by" integer,
	"decided_at" timestamp with time zone,
	"decision_note" text,
	CONSTRAINT "poam_extensions_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "poam_items" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"weakness" text NOT NULL,
	"source" text NOT NULL,
	"source_ref" text,
	"owner_id" integer NOT NULL,
	"due_on" date NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"escalation_level" integer DEFAULT 0 NOT NULL,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "poam_items_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "poam_milestones" (
	"id" serial PRIMARY KEY NOT NULL,
	"item_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"description" text NOT NULL,
	"due_on" date NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" integer
);
--> statement-breakpoint
CREATE TABLE "review_decisions" (
	"id" serial PRIMARY KEY NOT NULL,
	"review_id" integer NOT NULL,
	"decision" text NOT NULL,
	"owner_id" integer,
	"due_on" date,
	"status" text DEFAULT 'open' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" integer,
	"actor_label" text NOT NULL,
	"action" text NOT NULL,
	"entity" text NOT NULL,
	"entity_ref" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "message_links" (
	"id" serial PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"conversation_id" text NOT NULL,
	"message_id" text NOT NULL,
	"recipient_id" integer,
	"subject_ref" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" serial PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"recipient_id" integer NOT NULL,
	"kind" text NOT NULL,
	"reply" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"campaign_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "processed_events" (
	"key" text PRIMARY KEY NOT NULL,
	"reply" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ref_counters" (
	"prefix" text PRIMARY KEY NOT NULL,
	"last" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_addresses" ADD CONSTRAINT "chat_addresses_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assets" ADD CONSTRAINT "assets_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scope_changes" ADD CONSTRAINT "scope_changes_declared_by_people_id_fk" FOREIGN KEY ("declared_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scope_changes" ADD CONSTRAINT "scope_changes_decided_by_people_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scope_statements" ADD CONSTRAINT "scope_statements_approved_by_people_id_fk" FOREIGN KEY ("approved_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_tools" ADD CONSTRAINT "ai_tools_declared_by_people_id_fk" FOREIGN KEY ("declared_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_declared_by_people_id_fk" FOREIGN KEY ("declared_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_acceptances" ADD CONSTRAINT "risk_acceptances_risk_id_risks_id_fk" FOREIGN KEY ("risk_id") REFERENCES "public"."risks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_acceptances" ADD CONSTRAINT "risk_acceptances_decided_by_people_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_appetite" ADD CONSTRAINT "risk_appetite_approved_by_people_id_fk" FOREIGN KEY ("approved_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risks" ADD CONSTRAINT "risks_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risks" ADD CONSTRAINT "risks_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_mappings" ADD CONSTRAINT "control_mappings_control_id_controls_id_fk" FOREIGN KEY ("control_id") REFERENCES "public"."controls"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_mappings" ADD CONSTRAINT "control_mappings_requirement_id_framework_requirements_id_fk" FOREIGN KEY ("requirement_id") REFERENCES "public"."framework_requirements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "controls" ADD CONSTRAINT "controls_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_items" ADD CONSTRAINT "evidence_items_request_id_evidence_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."evidence_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_items" ADD CONSTRAINT "evidence_items_control_id_controls_id_fk" FOREIGN KEY ("control_id") REFERENCES "public"."controls"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_items" ADD CONSTRAINT "evidence_items_submitted_by_people_id_fk" FOREIGN KEY ("submitted_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_requests" ADD CONSTRAINT "evidence_requests_control_id_controls_id_fk" FOREIGN KEY ("control_id") REFERENCES "public"."controls"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_requests" ADD CONSTRAINT "evidence_requests_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_requests" ADD CONSTRAINT "evidence_requests_requested_by_people_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ack_campaign_audience" ADD CONSTRAINT "ack_campaign_audience_campaign_id_ack_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."ack_campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ack_campaign_audience" ADD CONSTRAINT "ack_campaign_audience_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ack_campaigns" ADD CONSTRAINT "ack_campaigns_policy_version_id_policy_versions_id_fk" FOREIGN KEY ("policy_version_id") REFERENCES "public"."policy_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ack_campaigns" ADD CONSTRAINT "ack_campaigns_started_by_people_id_fk" FOREIGN KEY ("started_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_acknowledgements" ADD CONSTRAINT "policy_acknowledgements_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_acknowledgements" ADD CONSTRAINT "policy_acknowledgements_policy_version_id_policy_versions_id_fk" FOREIGN KEY ("policy_version_id") REFERENCES "public"."policy_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_versions" ADD CONSTRAINT "policy_versions_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_versions" ADD CONSTRAINT "policy_versions_approved_by_people_id_fk" FOREIGN KEY ("approved_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "training_attestations" ADD CONSTRAINT "training_attestations_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "training_attestations" ADD CONSTRAINT "training_attestations_course_id_training_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."training_courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_findings" ADD CONSTRAINT "audit_findings_raised_by_people_id_fk" FOREIGN KEY ("raised_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_extensions" ADD CONSTRAINT "poam_extensions_item_id_poam_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."poam_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_extensions" ADD CONSTRAINT "poam_extensions_requested_by_people_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_extensions" ADD CONSTRAINT "poam_extensions_decided_by_people_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_items" ADD CONSTRAINT "poam_items_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_milestones" ADD CONSTRAINT "poam_milestones_item_id_poam_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."poam_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poam_milestones" ADD CONSTRAINT "poam_milestones_done_by_people_id_fk" FOREIGN KEY ("done_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD CONSTRAINT "review_decisions_review_id_management_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."management_reviews"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD CONSTRAINT "review_decisions_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "chat_addresses_person_platform" ON "chat_addresses" USING btree ("person_id","platform");--> statement-breakpoint
CREATE UNIQUE INDEX "framework_requirements_fw_ref" ON "framework_requirements" USING btree ("framework","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "requirement_crosswalks_pair" ON "requirement_crosswalks" USING btree ("source_framework","source_reference","target_framework","target_reference");--> statement-breakpoint
CREATE UNIQUE INDEX "evidence_requests_control_cycle" ON "evidence_requests" USING btree ("control_id","cycle");--> statement-breakpoint
CREATE UNIQUE INDEX "ack_campaign_audience_pk" ON "ack_campaign_audience" USING btree ("campaign_id","person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "policy_ack_person_version" ON "policy_acknowledgements" USING btree ("person_id","policy_version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "policy_versions_policy_version" ON "policy_versions" USING btree ("policy_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "message_links_message" ON "message_links" USING btree ("platform","conversation_id","message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_idempotency" ON "outbox" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("status","not_before");