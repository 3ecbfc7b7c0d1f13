-- GitHub accounts tracked through /v1/users: stored once however many users track them.
create table github_accounts (
    -- GitHub's user id.
    id           bigint primary key,
    login        text not null,
    name         text,
    -- ETags of the pages of `GET /users/{login}/repos?per_page=100&type=owner`, page 1 first.
    repos_etags  text[] not null default '{}',
    refreshed_at timestamptz,
    created_at   timestamptz not null default now()
);
create index github_accounts_login_idx on github_accounts (lower(login));

-- Which user tracks which GitHub account.
create table tracked_accounts (
    user_id    bigint not null references users (id) on delete cascade,
    account_id bigint not null references github_accounts (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (user_id, account_id)
);
create index tracked_accounts_account_idx on tracked_accounts (account_id);

-- Repositories of tracked accounts live in the shared `repositories` table too, linked to
-- their account; `stats_etag` makes the REST stats request conditional.
alter table repositories
    add column account_id bigint references github_accounts (id) on delete set null,
    add column stats_etag text;
create index repositories_account_idx on repositories (account_id) where account_id is not null;

-- One row per repository per UTC day; reruns the same day update the row.
create table repository_daily_stats (
    repository_id bigint not null references repositories (id) on delete cascade,
    date          date not null,
    stargazers    bigint not null,
    forks         bigint not null,
    -- People watching the repository (REST `subscribers_count`), not the legacy `watchers_count`.
    watchers      bigint not null,
    recorded_at   timestamptz not null default now(),
    primary key (repository_id, date)
);

-- Scheduled runs claimed by one replica: the daily stats scan inserts (name, period_key)
-- and whoever inserts or takes over an expired lease runs it.
create table scheduled_runs (
    name        text not null,
    period_key  text not null,
    claimed_at  timestamptz not null default now(),
    lease_until timestamptz not null,
    finished_at timestamptz,
    primary key (name, period_key)
);
