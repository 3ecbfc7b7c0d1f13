-- "Sign in with GitHub", the synced GitHub data of each integration, and its search index.
create extension if not exists pg_trgm;

-- OAuth `state` values: random, single-use, short-lived. Only their SHA-256 is stored, so a
-- database reader cannot replay a pending login.
create table oauth_states (
    state_hash bytea primary key,
    -- The app user who started the flow while signed in (linking), else null (sign-in).
    user_id    bigint references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);
create index oauth_states_expires_idx on oauth_states (expires_at);

-- One GitHub integration per app user; the OAuth token is stored encrypted (AES-256-GCM,
-- nonce || ciphertext) with a key kept outside the database.
create table github_integrations (
    id               bigserial primary key,
    user_id          bigint not null unique references users (id) on delete cascade,
    github_id        bigint not null unique,
    github_login     text not null,
    profile          jsonb not null,
    token_ciphertext bytea not null,
    scope            text,
    connected_at     timestamptz not null default now(),
    last_sync        timestamptz,
    -- Sync state: idle | running | finished | failed, with a lease so one sync runs at a time.
    sync_state       text not null default 'idle',
    sync_started_at  timestamptz,
    sync_finished_at timestamptz,
    sync_counts      jsonb,
    sync_progress    jsonb,
    sync_error       text,
    sync_full        boolean not null default false,
    lease_until      timestamptz
);

-- Per-list cursors of incremental syncs: the first page's ETag and a time cursor
-- (`since` for commits, the newest `updated_at` / `created_at` seen for the others).
create table github_sync_cursors (
    integration_id bigint not null references github_integrations (id) on delete cascade,
    list_key       text not null,
    etag           text,
    cursor_at      timestamptz,
    primary key (integration_id, list_key)
);

-- The raw GitHub JSON of every synced object, one row per (integration, collection, id or sha).
create table github_documents (
    integration_id bigint not null references github_integrations (id) on delete cascade,
    collection     text not null,
    key            text not null,
    doc            jsonb not null,
    synced_at      timestamptz not null default now(),
    -- Lower-cased text of the fields `search` looks at, per collection (trigram-indexed).
    search_text    text generated always as (lower(
        case collection
            when 'github_commits' then
                coalesce(doc ->> 'sha', '') || ' ' || coalesce(doc #>> '{commit,message}', '')
                || ' ' || coalesce(doc #>> '{commit,author,name}', '')
            when 'github_changelogs' then
                coalesce(doc ->> 'event', '') || ' ' || coalesce(doc #>> '{actor,login}', '')
            when 'github_repos' then
                coalesce(doc ->> 'name', '') || ' ' || coalesce(doc ->> 'full_name', '')
                || ' ' || coalesce(doc ->> 'description', '')
            when 'github_pulls' then
                coalesce(doc ->> 'title', '') || ' ' || coalesce(doc ->> 'body', '')
            when 'github_issues' then
                coalesce(doc ->> 'title', '') || ' ' || coalesce(doc ->> 'body', '')
            else
                coalesce(doc ->> 'login', '') || ' ' || coalesce(doc ->> 'name', '')
                || ' ' || coalesce(doc ->> 'description', '')
        end)) stored,
    primary key (integration_id, collection, key)
);
create index github_documents_search_idx on github_documents using gin (search_text gin_trgm_ops);
