-- Background resyncs of GitHub integrations: when the next one is due, when the last full
-- pass (which removes documents gone from GitHub) finished, how many syncs failed in a row
-- (the back-off), and whether GitHub refused the token (401): then no background sync runs
-- until the user signs in with GitHub again.
alter table github_integrations
    add column next_sync_at     timestamptz,
    add column last_full_sync   timestamptz,
    add column sync_failures    integer not null default 0,
    add column needs_reconnect  boolean not null default false;
create index github_integrations_due_idx on github_integrations (next_sync_at)
    where not needs_reconnect;
