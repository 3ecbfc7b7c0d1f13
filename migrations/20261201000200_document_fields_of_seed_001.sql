-- The fields seed 001's documents carried beside GitHub's JSON (its clients filter on them),
-- for documents synced before gitpulse wrote them; syncs write them from now on.
-- Idempotent: a document that has a field keeps it.

update github_documents d
   set doc = d.doc || jsonb_build_object('integration_user_id', i.github_id)
  from github_integrations i
 where i.id = d.integration_id
   and not d.doc ? 'integration_user_id';

update github_documents
   set doc = doc || jsonb_build_object('primary_language', doc -> 'language')
 where collection = 'github_repos'
   and not doc ? 'primary_language';

-- Commits, pulls, issues and issue events name their repository in their API `url`
-- (https://api.github.com/repos/{owner}/{name}/...).
update github_documents
   set doc = doc || jsonb_build_object(
           'repository', substring(doc ->> 'url' from '/repos/([^/]+/[^/]+)/'))
 where collection in ('github_commits', 'github_pulls', 'github_issues', 'github_changelogs')
   and not doc ? 'repository'
   and doc ->> 'url' ~ '/repos/[^/]+/[^/]+/';

-- A member's JSON does not say which organization listed it: forget the member lists' ETags
-- so that the next sync fetches them again and writes `organization`.
update github_sync_cursors
   set etag = null
 where list_key like 'org:%:members';
