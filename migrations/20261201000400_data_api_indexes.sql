-- The data API fast for every query shape (issue 13).

-- Documents per (integration, collection), kept by statement triggers, so that an unfiltered
-- total is one row read instead of a count over the collection. Documents never move between
-- integrations or collections (updates change only `doc` and `synced_at`).
create table github_document_counts (
    integration_id bigint not null references github_integrations (id) on delete cascade,
    collection     text not null,
    documents      bigint not null,
    primary key (integration_id, collection)
);

create function github_document_counts_inserted() returns trigger language plpgsql as $$
begin
    insert into github_document_counts (integration_id, collection, documents)
    select integration_id, collection, count(*) from inserted group by integration_id, collection
    on conflict (integration_id, collection)
        do update set documents = github_document_counts.documents + excluded.documents;
    return null;
end
$$;

create function github_document_counts_deleted() returns trigger language plpgsql as $$
begin
    update github_document_counts c
       set documents = c.documents - d.n
      from (select integration_id, collection, count(*) as n from deleted
            group by integration_id, collection) d
     where c.integration_id = d.integration_id and c.collection = d.collection;
    return null;
end
$$;

create trigger github_documents_counted_inserted after insert on github_documents
    referencing new table as inserted
    for each statement execute function github_document_counts_inserted();
create trigger github_documents_counted_deleted after delete on github_documents
    referencing old table as deleted
    for each statement execute function github_document_counts_deleted();

insert into github_document_counts (integration_id, collection, documents)
select integration_id, collection, count(*) from github_documents
group by integration_id, collection;

-- Equality and `$in` filters: a `doc @> …` pre-filter answered by this index.
create index github_documents_doc_idx on github_documents using gin (doc jsonb_path_ops);

-- The common sort paths of each collection, in both directions (ties by key, missing last).
create index github_commits_author_date_asc on github_documents
    (integration_id, (doc #> '{commit,author,date}'::text[]) asc nulls last, key)
    where collection = 'github_commits';
create index github_commits_author_date_desc on github_documents
    (integration_id, (doc #> '{commit,author,date}'::text[]) desc nulls last, key)
    where collection = 'github_commits';
create index github_pulls_created_at_asc on github_documents
    (integration_id, (doc #> '{created_at}'::text[]) asc nulls last, key)
    where collection = 'github_pulls';
create index github_pulls_created_at_desc on github_documents
    (integration_id, (doc #> '{created_at}'::text[]) desc nulls last, key)
    where collection = 'github_pulls';
create index github_pulls_updated_at_asc on github_documents
    (integration_id, (doc #> '{updated_at}'::text[]) asc nulls last, key)
    where collection = 'github_pulls';
create index github_pulls_updated_at_desc on github_documents
    (integration_id, (doc #> '{updated_at}'::text[]) desc nulls last, key)
    where collection = 'github_pulls';
create index github_issues_created_at_asc on github_documents
    (integration_id, (doc #> '{created_at}'::text[]) asc nulls last, key)
    where collection = 'github_issues';
create index github_issues_created_at_desc on github_documents
    (integration_id, (doc #> '{created_at}'::text[]) desc nulls last, key)
    where collection = 'github_issues';
create index github_issues_updated_at_asc on github_documents
    (integration_id, (doc #> '{updated_at}'::text[]) asc nulls last, key)
    where collection = 'github_issues';
create index github_issues_updated_at_desc on github_documents
    (integration_id, (doc #> '{updated_at}'::text[]) desc nulls last, key)
    where collection = 'github_issues';
create index github_changelogs_created_at_asc on github_documents
    (integration_id, (doc #> '{created_at}'::text[]) asc nulls last, key)
    where collection = 'github_changelogs';
create index github_changelogs_created_at_desc on github_documents
    (integration_id, (doc #> '{created_at}'::text[]) desc nulls last, key)
    where collection = 'github_changelogs';
create index github_repos_stargazers_asc on github_documents
    (integration_id, (doc #> '{stargazers_count}'::text[]) asc nulls last, key)
    where collection = 'github_repos';
create index github_repos_stargazers_desc on github_documents
    (integration_id, (doc #> '{stargazers_count}'::text[]) desc nulls last, key)
    where collection = 'github_repos';
