-- `/isms evidence review` lists submitted evidence requests soonest due first: each page is found by
-- seeking (due_on, id) among the submitted ones, and the queue is counted from this index alone,
-- rather than reading every evidence request.
CREATE INDEX IF NOT EXISTS "evidence_requests_submitted_due" ON "evidence_requests" USING btree ("due_on","id") WHERE "status" = 'submitted';
