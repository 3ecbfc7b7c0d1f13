-- API keys: only the public prefix and an argon2id hash of the full key are stored.
create table api_keys (
    id            bigserial primary key,
    user_id       bigint not null references users (id) on delete cascade,
    name          text not null,
    prefix        text not null unique,
    key_hash      text not null,
    scopes        text[] not null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    last_used_ip  text,
    usage_count   bigint not null default 0
);
create index api_keys_user_idx on api_keys (user_id, id desc);

-- Projects group repositories whose commits are pushed (or pulled) into gitpulse.
create table projects (
    id         bigserial primary key,
    user_id    bigint not null references users (id) on delete cascade,
    name       text not null,
    slug       text not null,
    created_at timestamptz not null default now()
);
create unique index projects_user_slug_key on projects (user_id, slug);

create table project_repos (
    id                bigserial primary key,
    project_id        bigint not null references projects (id) on delete cascade,
    name              text not null,
    remote_url        text,
    sync_method       text not null check (sync_method in ('push_client', 'pull')),
    sync_status       text not null default 'pending'
                      check (sync_status in ('pending', 'syncing', 'healthy', 'error')),
    last_sync_at      timestamptz,
    last_ingested_sha text,
    total_commits     bigint not null default 0,
    error_message     text,
    -- pull scheduling: when the next fetch is due, and the lease of the replica fetching it
    next_pull_at      timestamptz,
    pull_lease_until  timestamptz,
    created_at        timestamptz not null default now()
);
create unique index project_repos_project_name_key on project_repos (project_id, lower(name));
create index project_repos_pull_due_idx on project_repos (next_pull_at) where sync_method = 'pull';

-- Commits pushed by the client or pulled by the server, deduplicated per repository.
create table repo_commits (
    repo_id         bigint not null references project_repos (id) on delete cascade,
    sha             text not null,
    author_name     text not null,
    author_email    text not null,
    committer_name  text not null,
    committer_email text not null,
    commit_date     timestamptz not null,
    message_title   text not null,
    message_body    text,
    additions       bigint not null,
    deletions       bigint not null,
    files_changed   bigint not null,
    is_merge        boolean not null,
    parent_count    integer not null,
    ingested_at     timestamptz not null default now(),
    primary key (repo_id, sha)
);

-- Who did what: key creation and revocation, pushes, sync method changes, and more later.
create table audit_logs (
    id          bigserial primary key,
    user_id     bigint references users (id) on delete cascade,
    action      text not null,
    target_type text,
    target_id   text,
    details     jsonb not null default '{}',
    ip          text,
    created_at  timestamptz not null default now()
);
create index audit_logs_user_idx on audit_logs (user_id, id desc);
