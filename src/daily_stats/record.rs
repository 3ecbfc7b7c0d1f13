//! Asking GitHub for the counts of many repositories and storing them: GraphQL batches
//! with a token, conditional REST requests without.

use chrono::NaiveDate;
use tokio::task::JoinSet;

use super::{Lease, ScanError, ScanSummary};
use crate::github::GitHubError;
use crate::github::graphql::{self, MAX_ALIASES};
use crate::github::repos::{self as gh, RestCounts};
use crate::state::AppState;
use crate::store::daily_stats::{self, DailyCounts, StatsTarget};

/// GraphQL requests in flight at once (the client bounds all requests further).
const GRAPHQL_CONCURRENCY: usize = 4;
/// REST rows are stored in batches of this many.
const STORE_BATCH: usize = 500;

/// Batches of [`MAX_ALIASES`] repositories, a few requests in flight.
pub(super) async fn record_over_graphql(
    state: &AppState,
    targets: Vec<StatsTarget>,
    date: NaiveDate,
    lease: Option<&Lease<'_>>,
) -> Result<ScanSummary, ScanError> {
    let mut summary = ScanSummary::default();
    let mut chunks = targets
        .chunks(MAX_ALIASES)
        .map(<[StatsTarget]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter();
    let mut in_flight = JoinSet::new();
    loop {
        while summary.rate_limited_until.is_none()
            && !state.shutdown.is_cancelled()
            && in_flight.len() < GRAPHQL_CONCURRENCY
        {
            let Some(chunk) = chunks.next() else { break };
            let state = state.clone();
            in_flight.spawn(async move {
                let names: Vec<(&str, &str)> = chunk
                    .iter()
                    .map(|t| (t.owner.as_str(), t.name.as_str()))
                    .collect();
                let answer = graphql::repository_counts(&state.github, &names).await;
                (chunk, answer)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let Ok((chunk, answer)) = joined else {
            summary.failed += 1;
            continue;
        };
        let counts = match answer {
            Ok(counts) => counts,
            Err(GitHubError::RateLimited { until }) => {
                summary.rate_limited_until = Some(until);
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, repositories = chunk.len(), "GraphQL stats request failed");
                summary.failed += chunk.len();
                continue;
            }
        };
        let rows: Vec<DailyCounts> = chunk
            .iter()
            .zip(counts)
            .filter_map(|(target, counts)| {
                let Some(counts) = counts else {
                    summary.missing += 1;
                    return None;
                };
                Some(DailyCounts {
                    repository_id: target.id,
                    github_id: Some(counts.database_id),
                    stargazers: counts.stargazers,
                    forks: counts.forks,
                    watchers: counts.watchers,
                    etag: None,
                })
            })
            .collect();
        daily_stats::record(&state.db, date, &rows).await?;
        summary.recorded += rows.len();
        if let Some(lease) = lease {
            lease.keep(state).await?;
        }
    }
    Ok(summary)
}

/// One conditional request per repository, as many in flight as the client allows.
pub(super) async fn record_over_rest(
    state: &AppState,
    targets: Vec<StatsTarget>,
    date: NaiveDate,
    lease: Option<&Lease<'_>>,
) -> Result<ScanSummary, ScanError> {
    let concurrency = state.config.github_max_concurrency.max(1) * 2;
    let mut summary = ScanSummary::default();
    let mut pending = targets.into_iter();
    let mut in_flight = JoinSet::new();
    let mut rows = Vec::new();
    loop {
        while summary.rate_limited_until.is_none()
            && !state.shutdown.is_cancelled()
            && in_flight.len() < concurrency
        {
            let Some(target) = pending.next() else { break };
            let state = state.clone();
            in_flight.spawn(async move {
                // Without earlier counts a 304 would leave nothing to re-record.
                let etag = target.last_stargazers.and(target.stats_etag.as_deref());
                let answer =
                    gh::repository_counts(&state.github, &target.owner, &target.name, etag).await;
                (target, answer)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let Ok((target, answer)) = joined else {
            summary.failed += 1;
            continue;
        };
        match answer {
            Ok(RestCounts::NotModified) => {
                summary.not_modified += 1;
                rows.push(DailyCounts {
                    repository_id: target.id,
                    github_id: None,
                    stargazers: target.last_stargazers.unwrap_or_default(),
                    forks: target.last_forks.unwrap_or_default(),
                    watchers: target.last_watchers.unwrap_or_default(),
                    etag: target.stats_etag.clone(),
                });
            }
            Ok(RestCounts::Counts {
                github_id,
                stargazers,
                forks,
                watchers,
                etag,
            }) => rows.push(DailyCounts {
                repository_id: target.id,
                github_id: Some(github_id),
                stargazers,
                forks,
                watchers,
                etag,
            }),
            Err(GitHubError::NotFound) => summary.missing += 1,
            Err(GitHubError::RateLimited { until }) => summary.rate_limited_until = Some(until),
            Err(error) => {
                tracing::warn!(repository = %format!("{}/{}", target.owner, target.name), %error, "stats request failed");
                summary.failed += 1;
            }
        }
        if rows.len() >= STORE_BATCH {
            daily_stats::record(&state.db, date, &rows).await?;
            summary.recorded += rows.len();
            rows.clear();
            if let Some(lease) = lease {
                lease.keep(state).await?;
            }
        }
    }
    daily_stats::record(&state.db, date, &rows).await?;
    summary.recorded += rows.len();
    Ok(summary)
}
