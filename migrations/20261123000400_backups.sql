-- Repository backups (seed 002): registrations, and one row per push delivery.

create table backup_repositories (
    id               bigserial primary key,
    user_id          bigint not null references users (id) on delete cascade,
    company_id       text not null,
    repository_name  text not null,
    repository_url   text not null,
    org_name         text not null,
    data_type        text not null,
    created_by       text not null,
    -- HMAC key of the webhook; needed in clear to verify signatures.
    webhook_secret   text not null,
    -- Held by the worker backing this repository up, so one backup per repository
    -- runs at a time across replicas; a lease that expires marks a crashed worker.
    lease_expires_at timestamptz,
    created_at       timestamptz not null default now()
);

-- Company and repository names become directories, so they are unique regardless of case.
create unique index backup_repositories_path_key
    on backup_repositories (lower(company_id), lower(repository_name));
create index backup_repositories_user_company on backup_repositories (user_id, company_id);

create table backups (
    id             bigserial primary key,
    repository_id  bigint not null references backup_repositories (id) on delete cascade,
    delivery_id    text not null,
    status         text not null default 'queued'
                   check (status in ('queued', 'running', 'done', 'failed', 'pruned')),
    zip_file_name  text not null,
    pusher         text,
    added_files    text[] not null default '{}',
    modified_files text[] not null default '{}',
    removed_files  text[] not null default '{}',
    size_bytes     bigint,
    sha256         text,
    error          text,
    attempts       integer not null default 0,
    created_at     timestamptz not null default now(),
    started_at     timestamptz,
    finished_at    timestamptz
);

-- GitHub may deliver the same event twice: one backup per delivery.
create unique index backups_delivery_key on backups (repository_id, delivery_id);
create index backups_open on backups (id) where status in ('queued', 'running');
create index backups_repository on backups (repository_id, id);
