//! Tracked GitHub accounts: the shared `github_accounts` rows, each user's list
//! (`tracked_accounts`) and the link from an account to its repositories.

use sqlx::PgPool;

/// An account as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
}

/// An account whose repository list the daily scan refreshes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountToRefresh {
    pub id: i64,
    pub login: String,
    /// ETags of the list pages, page 1 first (`None` where a page had none).
    pub repos_etags: Vec<Option<String>>,
}

/// A repository as an account's list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRepository {
    pub github_id: i64,
    pub owner: String,
    pub name: String,
}

/// Stores the account as GitHub describes it now (login and name may have changed).
pub async fn upsert(
    db: &PgPool,
    id: i64,
    login: &str,
    name: Option<&str>,
) -> Result<Account, sqlx::Error> {
    sqlx::query_as(
        "insert into github_accounts (id, login, name) values ($1, $2, $3)
         on conflict (id) do update set login = excluded.login, name = excluded.name
         returning id, login, name",
    )
    .bind(id)
    .bind(login)
    .bind(name)
    .fetch_one(db)
    .await
}

/// Adds the account to the user's list; `false` if it was there already.
pub async fn track(db: &PgPool, user_id: i64, account_id: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "insert into tracked_accounts (user_id, account_id) values ($1, $2)
         on conflict do nothing",
    )
    .bind(user_id)
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes the account from the user's list; `false` if it was not there. The account,
/// its repositories and their statistics stay for the other users who track them.
pub async fn untrack(db: &PgPool, user_id: i64, account_id: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("delete from tracked_accounts where user_id = $1 and account_id = $2")
        .bind(user_id)
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// The account if the user tracks it.
pub async fn tracked(
    db: &PgPool,
    user_id: i64,
    account_id: i64,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as(
        "select a.id, a.login, a.name
           from tracked_accounts t join github_accounts a on a.id = t.account_id
          where t.user_id = $1 and t.account_id = $2",
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// The user's accounts, by login.
pub async fn list_tracked(db: &PgPool, user_id: i64) -> Result<Vec<Account>, sqlx::Error> {
    sqlx::query_as(
        "select a.id, a.login, a.name
           from tracked_accounts t join github_accounts a on a.id = t.account_id
          where t.user_id = $1
          order by lower(a.login), a.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Every account someone tracks, with the ETags of its list pages.
pub async fn to_refresh(db: &PgPool) -> Result<Vec<AccountToRefresh>, sqlx::Error> {
    sqlx::query_as(
        "select a.id, a.login, a.repos_etags from github_accounts a
          where exists (select 1 from tracked_accounts t where t.account_id = a.id)
          order by a.id",
    )
    .fetch_all(db)
    .await
}

/// Stores the account's repositories (one statement) linked to it, and the ETags of the
/// list pages they came from. Returns how many repositories the account has stored.
pub async fn store_repositories(
    db: &PgPool,
    account_id: i64,
    repositories: &[AccountRepository],
    etags: &[Option<String>],
) -> Result<i64, sqlx::Error> {
    // One row per name: a statement may not update the same row twice.
    let mut unique: Vec<&AccountRepository> = Vec::with_capacity(repositories.len());
    let mut seen = std::collections::HashSet::new();
    for repository in repositories {
        let key = (
            repository.owner.to_lowercase(),
            repository.name.to_lowercase(),
        );
        if seen.insert(key) {
            unique.push(repository);
        }
    }
    let ids: Vec<i64> = unique.iter().map(|r| r.github_id).collect();
    let owners: Vec<&str> = unique.iter().map(|r| r.owner.as_str()).collect();
    let names: Vec<&str> = unique.iter().map(|r| r.name.as_str()).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into repositories (owner, name, github_id, account_id)
         select o, n, g, $4 from unnest($1::text[], $2::text[], $3::bigint[]) as u(o, n, g)
         on conflict (lower(owner), lower(name)) do update
           set owner = excluded.owner, name = excluded.name,
               github_id = excluded.github_id, account_id = excluded.account_id",
    )
    .bind(&owners)
    .bind(&names)
    .bind(&ids)
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("update github_accounts set repos_etags = $2, refreshed_at = now() where id = $1")
        .bind(account_id)
        .bind(etags)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    repository_count(db, account_id).await
}

/// Records that the list was checked and had not changed (every page answered 304).
pub async fn mark_refreshed(db: &PgPool, account_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update github_accounts set refreshed_at = now() where id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn repository_count(db: &PgPool, account_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from repositories where account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// The stored ETags of the account's list pages (empty for an unknown account).
pub async fn repos_etags(db: &PgPool, account_id: i64) -> Result<Vec<Option<String>>, sqlx::Error> {
    let etags: Option<Vec<Option<String>>> =
        sqlx::query_scalar("select repos_etags from github_accounts where id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?;
    Ok(etags.unwrap_or_default())
}
