//! Charts and badges as SVG: the stars line chart (`stars.rs`), the events stacked bars
//! (`events.rs`), the stars badge (`badge.rs`), their parameters (`params.rs`), shared
//! look (`look.rs`) and the share links that render them without a token (`links.rs`).
//!
//! A request is checked (`params`), its data loaded for a user who must track every
//! repository named ([`load`]; the connection goes back to the pool before drawing),
//! then drawn on a blocking thread ([`Chart::render`]). The ETag is a hash of everything
//! the drawing depends on, so an unchanged chart answers 304 without being drawn.

pub mod badge;
pub mod events;
pub mod links;
pub mod look;
pub mod params;
mod parse;
pub mod stars;

use chrono::{Days, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::{AppError, AppResult};
use crate::store::{daily_stats, events as stored_events};
use badge::Badge;
use events::EventsChart;
use params::{ChartRequest, EventsRequest, Metric, RepoName, StarsRequest};
use stars::{Series, StarsChart};

/// Part of every ETag: bump it when the drawing changes, so caches let go of old images.
const RENDERER_VERSION: &str = "charts-1";
/// Where a stars chart without `from` starts looking (GitHub opened in 2008).
const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2008, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};
/// Days shown by a stars chart without `from` and without data.
const EMPTY_DAYS: u64 = 29;

/// A chart with its data, ready to draw.
#[derive(Debug, Clone)]
pub enum Chart {
    Stars(StarsChart),
    Events(EventsChart),
    Badge(Badge),
}

impl Chart {
    /// A strong ETag: the hash of the renderer version and of everything drawn.
    pub fn etag(&self) -> String {
        let inputs = match self {
            Self::Stars(c) => serde_json::to_vec(&("stars", c)),
            Self::Events(c) => serde_json::to_vec(&("events", c)),
            Self::Badge(c) => serde_json::to_vec(&("badge", c)),
        }
        .unwrap_or_default();
        let mut hash = Sha256::new();
        hash.update(RENDERER_VERSION.as_bytes());
        hash.update(&inputs);
        format!("\"{}\"", hex::encode(&hash.finalize()[..16]))
    }

    /// Draws the SVG off the async threads.
    pub async fn render(self) -> AppResult<String> {
        tokio::task::spawn_blocking(move || match self {
            Self::Stars(c) => c.render(),
            Self::Events(c) => c.render(),
            Self::Badge(c) => Ok(c.render()),
        })
        .await
        .map_err(|e| AppError::internal(format!("chart drawing stopped: {e}")))?
        .map_err(|e| AppError::internal(format!("chart drawing failed: {e}")))
    }
}

/// Loads the data of `request` for `user_id`: 404 unless they track every repository
/// named (directly or through an account), so nobody sees another user's list.
pub async fn load(db: &PgPool, user_id: i64, request: &ChartRequest) -> AppResult<Chart> {
    let found = tracked_repositories(db, user_id, request).await?;
    let full_name = |i: usize| format!("{}/{}", found[i].owner, found[i].name);
    match request {
        ChartRequest::Stars(r) => {
            let mut series = Vec::with_capacity(found.len());
            for (i, repository) in found.iter().enumerate() {
                let rows =
                    daily_stats::history(db, repository.id, r.from.unwrap_or(EARLIEST), r.to)
                        .await?;
                let points = rows
                    .into_iter()
                    .map(|row| {
                        let value = match r.metric {
                            Metric::Stars => Some(row.stargazers),
                            Metric::Forks => row.forks,
                            Metric::Watchers => row.watchers,
                        };
                        (row.date, value)
                    })
                    .collect();
                series.push(Series {
                    name: full_name(i),
                    points,
                });
            }
            Ok(Chart::Stars(stars_chart(r, series)))
        }
        ChartRequest::Events(r) => events_chart(db, r, found[0].id, full_name(0)).await,
        ChartRequest::Badge(_) => Ok(Chart::Badge(Badge {
            repository: full_name(0),
            stars: daily_stats::newest_stargazers(db, found[0].id).await?,
        })),
    }
}

/// The repositories `request` names, if the user tracks them all (else a 404 naming the
/// first one they do not).
pub async fn tracked_repositories(
    db: &PgPool,
    user_id: i64,
    request: &ChartRequest,
) -> AppResult<Vec<daily_stats::HistoryRepository>> {
    let mut found = Vec::new();
    for repo in request.repos() {
        let repository = daily_stats::visible_repository(db, user_id, &repo.owner, &repo.name)
            .await?
            .ok_or_else(|| not_tracked(repo))?;
        found.push(repository);
    }
    Ok(found)
}

fn not_tracked(repo: &RepoName) -> AppError {
    AppError::not_found(format!("Repository {repo} not found in your list"))
}

/// The chart over `[from, to]`; without `from`, from the first day with a count.
fn stars_chart(r: &StarsRequest, series: Vec<Series>) -> StarsChart {
    let first = series
        .iter()
        .filter_map(|s| s.points.iter().find(|(_, v)| v.is_some()).map(|(d, _)| *d))
        .min();
    let from = r
        .from
        .or(first)
        .unwrap_or_else(|| r.to.checked_sub_days(Days::new(EMPTY_DAYS)).unwrap_or(r.to));
    StarsChart {
        metric: r.metric,
        scale: r.scale,
        theme: r.theme,
        size: r.size,
        from,
        to: r.to,
        series,
    }
}

async fn events_chart(
    db: &PgPool,
    r: &EventsRequest,
    repository_id: i64,
    repository: String,
) -> AppResult<Chart> {
    let to = Utc::now().date_naive();
    let from = params::events_since(to, r.days);
    let counts = stored_events::daily_counts(db, repository_id, from).await?;
    Ok(Chart::Events(EventsChart {
        repository,
        theme: r.theme,
        size: r.size,
        from,
        to,
        counts,
    }))
}
