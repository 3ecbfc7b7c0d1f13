//! The data API over the caller's synced GitHub documents: paged, filtered (MongoDB-style),
//! searched and sorted queries of one collection, and a search across all of them.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::data::cursor::{Cursor, QueryShape};
use crate::data::{self, COLLECTIONS, parse_filter, parse_path};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::store::documents::{self, After, DocumentQuery, SortOrder, Total};
use crate::store::integrations;

/// Longest `search` / `q` keyword.
const MAX_KEYWORD_CHARS: usize = 200;
/// Highest page number accepted (keeps offsets sane).
const MAX_PAGE: i64 = 1_000_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(query_collection))
        .routes(routes!(search))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DataParams {
    /// Page number, from 1 (default 1).
    #[param(nullable = false, minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Items per page, 1–100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Dotted path to sort by, e.g. `commit.author.date`: up to 8 names of letters,
    /// digits and `_`, at most 200 characters (empty means no sort).
    #[param(
        nullable = false,
        max_length = 200,
        pattern = "^([A-Za-z0-9_]+(\\.[A-Za-z0-9_]+){0,7})?$"
    )]
    pub sort_by: Option<String>,
    /// `asc` (default) or `desc`, in any case.
    #[param(nullable = false, pattern = "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$")]
    pub sort_order: Option<String>,
    /// Case-insensitive text to find in the collection's text fields (at most 200
    /// characters; blank means no search).
    #[param(nullable = false, max_length = 200)]
    pub search: Option<String>,
    /// A JSON object of MongoDB-style conditions, e.g. `{"stargazers_count": {"$gt": 100}}`.
    #[param(nullable = false)]
    pub filter: Option<String>,
    /// Continue after the previous page: its `meta.next_cursor` (instead of `page`; the
    /// other parameters must stay the same). Deep pages cost what the first one does.
    #[param(nullable = false, max_length = 4096)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DataPagination)]
pub struct Pagination {
    pub current_page: i64,
    pub total_pages: i64,
    pub total_items: i64,
    pub items_per_page: i64,
    pub has_next: bool,
    pub has_previous: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueryMeta {
    pub collection: &'static str,
    pub filters_applied: bool,
    pub search_applied: bool,
    pub sort_by: Option<String>,
    pub sort_order: &'static str,
    /// `total_items` (and so `total_pages`) is an estimate: more than 4000 documents match
    /// a filter or search, and counting them all would cost more than the page. `has_next`
    /// is always exact.
    pub total_is_estimate: bool,
    /// Pass as `cursor` for the next page (null on the last page).
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataPage {
    /// The raw GitHub JSON documents.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<Value>,
    pub pagination: Pagination,
    pub meta: QueryMeta,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct SearchParams {
    /// The keyword, 2–200 characters (surrounding blanks are ignored).
    #[param(value_type = String, required = true, min_length = 2, max_length = 200,
        pattern = "\\S[\\s\\S]*\\S")]
    pub q: Option<String>,
    /// Results per collection, 1–50 (default 10).
    #[param(nullable = false, minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub keyword: String,
    /// Matching documents in all collections (more than `results` holds when truncated).
    pub total_results: i64,
    /// `total_results` is an estimate: more than 4000 documents of a collection match.
    pub total_is_estimate: bool,
    pub collections_searched: Vec<&'static str>,
    /// Up to `limit` documents per collection.
    #[schema(value_type = Object)]
    pub results: BTreeMap<&'static str, Vec<Value>>,
}

fn keyword(raw: Option<&str>, name: &str) -> AppResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_KEYWORD_CHARS {
        return Err(AppError::bad_request(format!(
            "{name} is too long (at most {MAX_KEYWORD_CHARS} characters)"
        )));
    }
    Ok(Some(text.to_string()))
}

/// Query one collection of the caller's synced GitHub data.
#[utoipa::path(get, path = "/data/{collection}", tag = "data", params(
        ("collection" = String, Path, pattern = "^(github_organizations|github_users|github_repos|github_commits|github_pulls|github_issues|github_changelogs)$",
            description = "github_organizations, github_users, github_repos, github_commits, github_pulls, github_issues or github_changelogs"),
        DataParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of documents", body = DataPage),
        (status = 400, description = "Unknown collection, or an invalid page, limit, sort, search or filter", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn query_collection(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(collection): Path<String>,
    Query(params): Query<DataParams>,
) -> AppResult<Json<DataPage>> {
    let collection = data::collection(&collection).ok_or_else(|| {
        AppError::bad_request(format!(
            "Unknown collection \"{}\"; allowed: {}",
            collection.chars().take(60).collect::<String>(),
            COLLECTIONS.join(", ")
        ))
    })?;
    let mut page = params.page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(AppError::bad_request(format!(
            "page must be between 1 and {MAX_PAGE}"
        )));
    }
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_request("limit must be between 1 and 100"));
    }
    let (order, sort_order) = match params.sort_order.as_deref().map(str::to_ascii_lowercase) {
        None => (SortOrder::Asc, "asc"),
        Some(o) if o == "asc" => (SortOrder::Asc, "asc"),
        Some(o) if o == "desc" => (SortOrder::Desc, "desc"),
        Some(_) => return Err(AppError::bad_request("sort_order must be asc or desc")),
    };
    let sort_by = match params.sort_by.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(
            parse_path(raw).map_err(|e| AppError::bad_request(format!("Invalid sort_by: {e}")))?,
        ),
        None => None,
    };
    let search = keyword(params.search.as_deref(), "search")?;
    let filter_text = params.filter.as_deref().filter(|f| !f.trim().is_empty());
    let filter = match filter_text {
        Some(raw) => Some(
            parse_filter(raw).map_err(|e| AppError::bad_request(format!("Invalid filter: {e}")))?,
        ),
        None => None,
    };
    let sort_text = params.sort_by.as_deref().filter(|s| !s.is_empty());
    let shape = QueryShape {
        collection,
        filter: filter_text,
        search: search.as_deref(),
        sort_by: sort_text,
        descending: order == SortOrder::Desc,
    };
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(_) if params.page.is_some() => {
            return Err(AppError::bad_request(
                "Give either page or cursor, not both",
            ));
        }
        Some(text) => {
            let cursor = Cursor::decode(text, &shape).map_err(AppError::bad_request)?;
            page = cursor.page.min(MAX_PAGE);
            Some(After {
                sort_value: cursor.sort_value().cloned(),
                key: cursor.key,
            })
        }
        None => None,
    };

    let found = match integrations::find_for_user(&state.db, auth.user_id).await? {
        Some(integration) => {
            let query = DocumentQuery {
                integration_id: integration.id,
                collection,
                filter: filter.as_ref(),
                search: search.as_deref(),
                sort_by: sort_by.as_ref(),
                order,
                limit,
                offset: (page - 1) * limit,
                after: after.as_ref(),
            };
            Some(
                documents::query(&state.db, &query)
                    .await
                    .map_err(query_error)?,
            )
        }
        None => None,
    };
    let (docs, has_next, total, last) = match found {
        Some(found) => (found.docs, found.has_more, found.total, found.last),
        None => (Vec::new(), false, Total::default(), None),
    };
    let next_cursor = last
        .filter(|_| has_next && page < MAX_PAGE)
        .map(|last| Cursor::new(&shape, page + 1, last.key, last.sort_value).encode());
    Ok(Json(DataPage {
        data: docs,
        pagination: Pagination {
            current_page: page,
            total_pages: (total.count + limit - 1) / limit,
            total_items: total.count,
            items_per_page: limit,
            has_next,
            has_previous: page > 1,
        },
        meta: QueryMeta {
            collection,
            filters_applied: filter.is_some(),
            search_applied: search.is_some(),
            sort_by: sort_text.map(str::to_string),
            sort_order,
            total_is_estimate: total.is_estimate,
            next_cursor,
        },
    }))
}

/// PostgreSQL's answers to a bad `$regex` or a runaway query are the client's problem.
fn query_error(error: sqlx::Error) -> AppError {
    let code = error
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.to_string());
    match code.as_deref() {
        Some("2201B") => {
            let detail = error
                .as_database_error()
                .map(|d| d.message().to_string())
                .unwrap_or_default();
            AppError::bad_request(format!("Invalid filter: bad $regex pattern ({detail})"))
        }
        Some("57014") => AppError::bad_request(
            "The query took too long (over 10 seconds); make the filter more selective",
        ),
        _ => AppError::Database(error),
    }
}

/// Search every collection of the caller's synced GitHub data for a keyword.
#[utoipa::path(get, path = "/search", tag = "data", params(SearchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matches per collection", body = SearchResults),
        (status = 400, description = "Missing, too short or too long keyword, or a bad limit", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn search(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(params): Query<SearchParams>,
) -> AppResult<Json<SearchResults>> {
    let q = params.q.as_deref().map(str::trim).unwrap_or_default();
    let length = q.chars().count();
    if !(2..=MAX_KEYWORD_CHARS).contains(&length) {
        return Err(AppError::bad_request(format!(
            "q must be 2 to {MAX_KEYWORD_CHARS} characters long"
        )));
    }
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(AppError::bad_request("limit must be between 1 and 50"));
    }
    let mut results: BTreeMap<&'static str, Vec<Value>> =
        COLLECTIONS.iter().map(|c| (*c, Vec::new())).collect();
    let (mut total_results, mut total_is_estimate) = (0, false);
    if let Some(integration) = integrations::find_for_user(&state.db, auth.user_id).await? {
        for (collection, docs, total) in
            documents::search_all(&state.db, integration.id, q, limit).await?
        {
            results.insert(collection, docs);
            total_results += total.count;
            total_is_estimate |= total.is_estimate;
        }
    }
    Ok(Json(SearchResults {
        keyword: q.to_string(),
        total_results,
        total_is_estimate,
        collections_searched: COLLECTIONS.to_vec(),
        results,
    }))
}
