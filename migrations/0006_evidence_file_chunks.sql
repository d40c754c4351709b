CREATE TABLE "evidence_file_chunks" (
	"item_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	CONSTRAINT "evidence_file_chunks_item_id_seq_pk" PRIMARY KEY("item_id","seq")
);
--> statement-breakpoint
ALTER TABLE "evidence_file_chunks" ADD CONSTRAINT "evidence_file_chunks_item_id_evidence_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."evidence_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Files stored so far move into 1 MiB chunks numbered from 0, the way the bot now writes them.
INSERT INTO "evidence_file_chunks" ("item_id", "seq", "bytes")
  SELECT i."id", s.seq, substring(i."file_bytes" from s.seq * 1048576 + 1 for 1048576)
  FROM "evidence_items" i, generate_series(0, (length(i."file_bytes") - 1) / 1048576) AS s(seq)
  WHERE length(i."file_bytes") > 0;
--> statement-breakpoint
ALTER TABLE "evidence_items" DROP COLUMN "file_bytes";--> statement-breakpoint
-- Evidence revisions are never overwritten, so neither are their bytes.
CREATE TRIGGER evidence_file_chunks_no_change BEFORE UPDATE OR DELETE ON evidence_file_chunks
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
--> statement-breakpoint
CREATE TRIGGER evidence_file_chunks_no_truncate BEFORE TRUNCATE ON evidence_file_chunks
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_append_only();
