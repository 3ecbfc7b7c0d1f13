//! The parameters of the charts and the badge, as query strings and as the `params` of a
//! share link (the same names, string values), checked into typed requests. Every problem
//! is a 400 naming the parameter.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse::{date, number, one_of, repo_name, required, size, theme};
use crate::error::{AppError, AppResult};

/// Most repositories on one chart.
pub const MAX_REPOS: usize = 10;
/// Width and height bounds, in pixels.
pub const WIDTH: (u32, u32) = (200, 2000);
pub const HEIGHT: (u32, u32) = (100, 1200);
pub const DEFAULT_SIZE: (u32, u32) = (800, 400);
/// Days of events shown by default and at most.
pub const DEFAULT_EVENT_DAYS: u32 = 30;
pub const MAX_EVENT_DAYS: u32 = 365;

/// Which chart (or badge) a share link renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    Stars,
    Events,
    Badge,
}

impl ChartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stars => "stars",
            Self::Events => "events",
            Self::Badge => "badge",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Stars, Self::Events, Self::Badge]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    /// The parameters this chart takes.
    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            Self::Stars => &[
                "repos", "metric", "from", "to", "scale", "theme", "width", "height",
            ],
            Self::Events => &["repo", "days", "theme", "width", "height"],
            Self::Badge => &["repo"],
        }
    }
}

/// `GET /charts/stars.svg`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct StarsQuery {
    /// Up to 10 repositories you track, `owner/name`, separated by commas.
    #[param(
        nullable = false,
        pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}/[A-Za-z0-9._-]{1,100}(,[A-Za-z0-9_][A-Za-z0-9_-]{0,99}/[A-Za-z0-9._-]{1,100}){0,9}$",
        example = "octocat/Hello-World,rust-lang/rust"
    )]
    pub repos: Option<String>,
    /// `stars` (default), `forks` or `watchers`.
    #[param(nullable = false, pattern = "^(stars|forks|watchers)$")]
    pub metric: Option<String>,
    /// First day, `YYYY-MM-DD` (default: the first day with data).
    #[param(format = Date, nullable = false)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive (default: today, UTC); not before `from`.
    #[param(format = Date, nullable = false)]
    pub to: Option<String>,
    /// `linear` (default) or `log`.
    #[param(nullable = false, pattern = "^(linear|log)$")]
    pub scale: Option<String>,
    /// `light` (default) or `dark`.
    #[param(nullable = false, pattern = "^(light|dark)$")]
    pub theme: Option<String>,
    /// Pixels, 200–2000 (default 800).
    #[param(value_type = Option<u32>, nullable = false, minimum = 200, maximum = 2000, example = 800)]
    pub width: Option<String>,
    /// Pixels, 100–1200 (default 400).
    #[param(value_type = Option<u32>, nullable = false, minimum = 100, maximum = 1200, example = 400)]
    pub height: Option<String>,
}

/// `GET /charts/events.svg`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct EventsQuery {
    /// A repository you track, `owner/name`.
    #[param(
        nullable = false,
        pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}/[A-Za-z0-9._-]{1,100}$",
        example = "octocat/Hello-World"
    )]
    pub repo: Option<String>,
    /// Days up to today, 1–365 (default 30).
    #[param(value_type = Option<u32>, nullable = false, minimum = 1, maximum = 365, example = 30)]
    pub days: Option<String>,
    /// `light` (default) or `dark`.
    #[param(nullable = false, pattern = "^(light|dark)$")]
    pub theme: Option<String>,
    /// Pixels, 200–2000 (default 800).
    #[param(value_type = Option<u32>, nullable = false, minimum = 200, maximum = 2000, example = 800)]
    pub width: Option<String>,
    /// Pixels, 100–1200 (default 400).
    #[param(value_type = Option<u32>, nullable = false, minimum = 100, maximum = 1200, example = 400)]
    pub height: Option<String>,
}

/// `GET /badges/stars.svg`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct BadgeQuery {
    /// A repository you track, `owner/name`.
    #[param(
        nullable = false,
        pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}/[A-Za-z0-9._-]{1,100}$",
        example = "octocat/Hello-World"
    )]
    pub repo: Option<String>,
}

/// A repository as the caller named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Stars,
    Forks,
    Watchers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Linear,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
}

/// A checked `GET /charts/stars.svg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StarsRequest {
    pub repos: Vec<RepoName>,
    pub metric: Metric,
    /// `None`: from the first day with data.
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
    pub scale: Scale,
    pub theme: Theme,
    pub size: (u32, u32),
}

/// A checked `GET /charts/events.svg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventsRequest {
    pub repo: RepoName,
    pub days: u32,
    pub theme: Theme,
    pub size: (u32, u32),
}

/// A checked chart request of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartRequest {
    Stars(StarsRequest),
    Events(EventsRequest),
    Badge(RepoName),
}

impl ChartRequest {
    /// The repositories the caller must track.
    pub fn repos(&self) -> Vec<&RepoName> {
        match self {
            Self::Stars(r) => r.repos.iter().collect(),
            Self::Events(r) => vec![&r.repo],
            Self::Badge(repo) => vec![repo],
        }
    }

    /// A share link's stored `params`: only the names `kind` takes, string values.
    pub fn from_link(kind: ChartKind, params: &BTreeMap<String, String>) -> AppResult<Self> {
        if let Some(unknown) = params
            .keys()
            .find(|k| !kind.parameter_names().contains(&k.as_str()))
        {
            return Err(AppError::bad_request(format!(
                "Unknown parameter {unknown:?} for a {} chart; it takes: {}",
                kind.as_str(),
                kind.parameter_names().join(", ")
            )));
        }
        let get = |name: &str| params.get(name).cloned();
        match kind {
            ChartKind::Stars => StarsQuery {
                repos: get("repos"),
                metric: get("metric"),
                from: get("from"),
                to: get("to"),
                scale: get("scale"),
                theme: get("theme"),
                width: get("width"),
                height: get("height"),
            }
            .check()
            .map(Self::Stars),
            ChartKind::Events => EventsQuery {
                repo: get("repo"),
                days: get("days"),
                theme: get("theme"),
                width: get("width"),
                height: get("height"),
            }
            .check()
            .map(Self::Events),
            ChartKind::Badge => BadgeQuery { repo: get("repo") }.check().map(Self::Badge),
        }
    }
}

impl StarsQuery {
    pub fn check(&self) -> AppResult<StarsRequest> {
        let repos_text = required("repos", self.repos.as_deref())?;
        let mut repos: Vec<RepoName> = Vec::new();
        for part in repos_text.split(',') {
            let repo = repo_name("repos", part)?;
            if repos.iter().any(|r| {
                r.owner.eq_ignore_ascii_case(&repo.owner) && r.name.eq_ignore_ascii_case(&repo.name)
            }) {
                return Err(AppError::bad_request(format!(
                    "Invalid repos: {repo} is named twice"
                )));
            }
            repos.push(repo);
        }
        if repos.len() > MAX_REPOS {
            return Err(AppError::bad_request(format!(
                "Invalid repos: at most {MAX_REPOS} repositories on one chart"
            )));
        }
        let metric = one_of(
            "metric",
            self.metric.as_deref(),
            &[
                ("stars", Metric::Stars),
                ("forks", Metric::Forks),
                ("watchers", Metric::Watchers),
            ],
            Metric::Stars,
        )?;
        let scale = one_of(
            "scale",
            self.scale.as_deref(),
            &[("linear", Scale::Linear), ("log", Scale::Log)],
            Scale::Linear,
        )?;
        let from = date("from", self.from.as_deref())?;
        let to = date("to", self.to.as_deref())?.unwrap_or_else(|| Utc::now().date_naive());
        if from.is_some_and(|from| from > to) {
            return Err(AppError::bad_request("from must not be after to"));
        }
        Ok(StarsRequest {
            repos,
            metric,
            from,
            to,
            scale,
            theme: theme(self.theme.as_deref())?,
            size: size(self.width.as_deref(), self.height.as_deref())?,
        })
    }
}

impl EventsQuery {
    pub fn check(&self) -> AppResult<EventsRequest> {
        let repo = repo_name("repo", required("repo", self.repo.as_deref())?)?;
        let days = number("days", self.days.as_deref(), (1, MAX_EVENT_DAYS))?
            .unwrap_or(DEFAULT_EVENT_DAYS);
        Ok(EventsRequest {
            repo,
            days,
            theme: theme(self.theme.as_deref())?,
            size: size(self.width.as_deref(), self.height.as_deref())?,
        })
    }
}

impl BadgeQuery {
    pub fn check(&self) -> AppResult<RepoName> {
        repo_name("repo", required("repo", self.repo.as_deref())?)
    }
}

/// The first day of an events chart of `days` days up to `today`.
pub fn events_since(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
        .unwrap_or(today)
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
