-- Application settings shared by every replica (for example the generated JWT key).
create table app_settings (
    key        text primary key,
    value      text not null,
    created_at timestamptz not null default now()
);

create table users (
    id            bigserial primary key,
    username      text not null,
    password_hash text,
    github_id     bigint unique,
    github_login  text,
    created_at    timestamptz not null default now()
);

-- Usernames are unique regardless of case: "Alice" and "alice" are the same person.
create unique index users_username_key on users (lower(username));
