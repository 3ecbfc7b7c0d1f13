-- Seeds :n generated commits into the GitHub integration of the app user 'bench' (created
-- by bench/data_api.sh through the API). Realistic shape, compact: sha, commit message,
-- author name/email/date, author login, html_url. 20 authors; the messages draw from 50
-- topics, so a topic word matches ~2% of the commits.
\set ON_ERROR_STOP on
insert into github_integrations (user_id, github_id, github_login, profile, token_ciphertext)
select id, 424242, 'bench', '{"login": "bench", "id": 424242}', '\x00'
from users where username = 'bench';

-- Building the GIN indexes once after the load is much faster than maintaining them per row.
drop index if exists github_documents_search_idx;
drop index if exists github_documents_doc_idx;
insert into github_documents (integration_id, collection, key, doc)
select i.id, 'github_commits', s.sha, jsonb_build_object(
    'sha', s.sha,
    'node_id', 'C_' || substr(s.sha, 1, 20),
    'html_url', 'https://github.com/acme/repo-' || (g % 100) || '/commit/' || s.sha,
    'commit', jsonb_build_object(
        'message', (array['Fix', 'Add', 'Refactor', 'Update', 'Remove'])[1 + g % 5] || ' '
            || (array['parser', 'login', 'cache', 'router', 'scheduler', 'logging', 'metrics',
                      'config', 'storage', 'search', 'index', 'backup', 'webhook', 'token',
                      'session', 'upload', 'download', 'export', 'import', 'billing', 'invoice',
                      'email', 'notification', 'queue', 'worker', 'retry', 'timeout', 'pagination',
                      'filter', 'sorting', 'layout', 'theme', 'button', 'modal', 'sidebar',
                      'header', 'footer', 'dashboard', 'chart', 'report', 'audit', 'permission',
                      'role', 'team', 'project', 'release', 'changelog', 'readme', 'license',
                      'docker'])[1 + (g / 5) % 50]
            || ' handling in module ' || (g % 997),
        'author', jsonb_build_object(
            'name', 'author-' || (g % 20),
            'email', 'author-' || (g % 20) || '@example.com',
            'date', to_char(timestamp '2020-01-01' + g * interval '1 minute',
                            'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        'comment_count', 0),
    'author', jsonb_build_object('login', 'author-' || (g % 20), 'id', 1000 + g % 20),
    'parents', jsonb_build_array())
from generate_series(1, :n) g
cross join lateral (select md5(g::text) || substr(md5((g + 1)::text), 1, 8) as sha) s
cross join (select id from github_integrations where github_login = 'bench') i;
set maintenance_work_mem = '256MB';
create index github_documents_search_idx on github_documents using gin (search_text gin_trgm_ops);
create index github_documents_doc_idx on github_documents using gin (doc jsonb_path_ops);
vacuum analyze github_documents;
