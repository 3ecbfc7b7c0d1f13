-- Backup names are per user (issue 10): two users may register the same company and
-- repository names without seeing each other. Names stay unique per user regardless of
-- case; the webhook finds the registration among those sharing its path by signature.

-- Where a registration's mirror and archives live, relative to BACKUP_DIR. Existing
-- registrations keep their `{company_id}` directory; new ones get
-- `@users/{user_id}/{company_id}` ('@' is not allowed in a company id, so the two
-- layouts never meet).
alter table backup_repositories add column storage_dir text;
update backup_repositories set storage_dir = company_id;
alter table backup_repositories alter column storage_dir set not null;

drop index backup_repositories_path_key;
create unique index backup_repositories_user_names_key
    on backup_repositories (user_id, lower(company_id), lower(repository_name));
-- No two registrations share a mirror or archive directory.
create unique index backup_repositories_storage_key
    on backup_repositories (lower(storage_dir), lower(repository_name));
-- The webhook's lookup by the names in its URL.
create index backup_repositories_names on backup_repositories (company_id, repository_name);
