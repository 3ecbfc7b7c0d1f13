-- Requests each polling token made, per minute and outcome (200, 304, 4xx, 5xx), added up
-- by every replica (each writes its counts every few seconds); `GET /github/budget` sums the
-- last hour. Tokens are named by a short one-way fingerprint, never stored themselves.
create table github_token_requests (
    fingerprint text not null,
    minute      timestamptz not null,
    outcome     text not null,
    requests    bigint not null,
    primary key (fingerprint, minute, outcome)
);
create index github_token_requests_minute_idx on github_token_requests (minute);
