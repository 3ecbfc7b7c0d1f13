-- Share links: a chart or badge that anyone holding the link's URL may see, rendered with
-- the access of the user who made it (issue 16). The URL carries `{id}_{secret}`; the
-- secret is compared in constant time. It is kept (not hashed) because its owner may list
-- the URL again; it grants only the read of charts the database itself holds.
create table chart_links (
    id         bigserial primary key,
    user_id    bigint not null references users (id) on delete cascade,
    chart      text not null check (chart in ('stars', 'events', 'badge')),
    params     jsonb not null,
    secret     text not null,
    created_at timestamptz not null default now()
);

create index chart_links_user on chart_links (user_id, id);
