-- Star history back to a repository's creation (GitHub's `stargazers/history`).
--
-- Daily rows come from the daily scan (`snapshot`) or from the star history (`backfill`).
-- A snapshot replaces a backfill row of its day; a backfill never overwrites a snapshot.
-- The history endpoint knows stars only: forks and watchers are null on backfilled days.
alter table repository_daily_stats
    add column source text not null default 'snapshot'
        check (source in ('snapshot', 'backfill')),
    alter column forks drop not null,
    alter column watchers drop not null,
    add constraint repository_daily_stats_snapshot_counts
        check (source = 'backfill' or (forks is not null and watchers is not null));

-- Per repository: how far its star history is loaded and when to look again.
--   pending     not loaded yet (new repositories; retried with back-off after errors)
--   complete    every day back to the repository's creation
--   truncated   GitHub's 100 pages did not reach the creation (about 57 years of weeks)
--   unavailable the endpoint is missing (404, older GitHub Enterprise Server) or refused (403)
alter table repositories
    add column star_history_state text not null default 'pending'
        check (star_history_state in ('pending', 'complete', 'truncated', 'unavailable')),
    -- The ETag of page 1, for the daily conditional refresh.
    add column star_history_etag text,
    -- The first day of the loaded history.
    add column star_history_since date,
    add column star_history_checked_at timestamptz,
    add column star_history_error text,
    add column star_history_failures integer not null default 0,
    add column star_history_next_at timestamptz not null default now(),
    add column star_history_lease_until timestamptz;
create index repositories_star_history_next_idx on repositories (star_history_next_at);
