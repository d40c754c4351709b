-- A platform that cannot tell afterwards whether a message arrived (Teams' Bot Connector) needs to
-- know whether an interrupted attempt got as far as the send: only then may the person have it already.
ALTER TABLE "outbox" ADD COLUMN "send_started_at" timestamp with time zone;
--> statement-breakpoint
-- Sent again after an interruption, marked for the person: `/isms nudges` counts these.
ALTER TABLE "outbox" ADD COLUMN "possible_repeat" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- `/isms nudges` counts them without reading the whole outbox.
CREATE INDEX "outbox_possible_repeat" ON "outbox" USING btree ("id") WHERE possible_repeat;
--> statement-breakpoint
-- Each platform's pace, shared by every replica: when its next even slot falls, and until when a
-- workspace-wide 429 holds it. Two replicas each pacing at the whole rate would send twice as fast.
CREATE TABLE "delivery_pace" (
  "platform" text PRIMARY KEY NOT NULL,
  "tat" timestamp with time zone NOT NULL,
  "paused_until" timestamp with time zone
);
