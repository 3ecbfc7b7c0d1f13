-- Events lost between two polls: GitHub's events endpoint shows at most the newest 300, so
-- a repository with more new events than that between two polls loses the rest. A poll that
-- reads the whole window without meeting a known event records the gap it leaves.
create table event_gaps (
    id                bigserial primary key,
    repository_id     bigint not null references repositories (id) on delete cascade,
    -- The newest event stored before the poll and the oldest one it fetched: events in
    -- between may be missing.
    started_at        timestamptz not null,
    ended_at          timestamptz not null,
    -- Events that probably fell into the gap, at the rate of the events fetched (null when
    -- they give no rate).
    estimated_missing integer,
    detected_at       timestamptz not null default now()
);
create index event_gaps_repository_idx on event_gaps (repository_id, detected_at desc);

-- Busy repositories are polled more often: after a gap the interval shrinks toward
-- X-Poll-Interval (never below it, never below 60 s) and relaxes back after polls without
-- one. Null: the normal interval. `gap_until`: the end of the newest gap, for statistics.
alter table repositories
    add column busy_interval_secs integer,
    add column gap_until timestamptz;
