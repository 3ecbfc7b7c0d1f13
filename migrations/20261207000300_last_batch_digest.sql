-- The SHA-256 of the shas of the last commit batch a repository stored (in the batch's
-- order), written in the batch's transaction: a retried request (the same batch again) is
-- then recognised without looking up each of its commits. Null until the next batch.
alter table project_repos add column last_batch_digest bytea;
