-- GitHub repositories, stored and polled once however many users track them.
create table repositories (
    id                 bigserial primary key,
    owner              text not null,
    name               text not null,
    github_id          bigint,
    -- Event polling state.
    events_etag        text,
    poll_interval_secs integer not null default 60,
    next_poll_at       timestamptz not null default now(),
    lease_until        timestamptz,
    last_polled_at     timestamptz,
    last_synchronized  timestamptz,
    last_error         text,
    error_count        integer not null default 0,
    unavailable        boolean not null default false,
    -- Bumped whenever events change, so cached statistics know they are stale.
    events_version     bigint not null default 0,
    created_at         timestamptz not null default now()
);
create unique index repositories_full_name_key on repositories (lower(owner), lower(name));
create index repositories_next_poll_idx on repositories (next_poll_at);

-- Which user tracks which repository.
create table tracked_repositories (
    user_id       bigint not null references users (id) on delete cascade,
    repository_id bigint not null references repositories (id) on delete cascade,
    created_at    timestamptz not null default now(),
    primary key (user_id, repository_id)
);
create index tracked_repositories_repository_idx on tracked_repositories (repository_id);

-- The newest events of each repository (EVENTS_KEEP_PER_REPO), deduplicated by GitHub's id.
create table events (
    repository_id bigint not null references repositories (id) on delete cascade,
    id            bigint not null,
    event_type    text not null,
    actor_login   text,
    created_at    timestamptz not null,
    primary key (repository_id, id)
);
create index events_repository_created_idx on events (repository_id, created_at desc, id desc);

-- Cached event statistics: valid while the repository's events_version is unchanged and
-- until valid_until (when the oldest event of the 7-day window leaves it).
create table repository_event_stats (
    repository_id  bigint primary key references repositories (id) on delete cascade,
    statistics     jsonb not null,
    events_version bigint not null,
    valid_until    timestamptz
);
