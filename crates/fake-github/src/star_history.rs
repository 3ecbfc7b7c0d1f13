//! `GET /repos/{owner}/{repo}/stargazers/history`: the stars a repository gained each week,
//! newest week first, as `{"week": <unix seconds of the week's start>, "total": <stars gained
//! that week>, "days": [7 daily gains]}`. Weeks start on Sunday 00:00 UTC (as in GitHub's
//! weekly statistics) and run from the week of the first recorded day to the week of the
//! last. Pages hold `per_page` weeks (default and at most 30); `page` goes up to 100 (422
//! beyond); `Link`, ETag and `If-None-Match` → 304 as on every list; 404 for an unknown
//! repository, `[]` for one without history.
//!
//! ```text
//! gh.set_star_history("octocat", "Hello-World", vec![(day, 12), (day.succ_opt().unwrap(), 3)]);
//! gh.add_star_gain("octocat", "Hello-World", today, 1);
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, State as AxumState};
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Value, json};

use super::http::{ListOpts, Req, list_json, not_found};
use super::state::State;
use crate::server::FakeGitHub;

/// Weeks per page: the default and the largest `per_page`.
pub(crate) const MAX_WEEKS_PER_PAGE: usize = 30;
/// The largest `page`.
pub(crate) const MAX_PAGE: usize = 100;

/// Stars gained per day, by repository id.
#[derive(Debug, Default)]
pub(crate) struct StarHistory(Mutex<BTreeMap<i64, BTreeMap<NaiveDate, i64>>>);

impl StarHistory {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<i64, BTreeMap<NaiveDate, i64>>> {
        self.0
            .lock()
            .expect("fake GitHub star history mutex poisoned (a panic happened while holding it)")
    }
}

impl FakeGitHub {
    fn repo_id(&self, owner: &str, name: &str) -> i64 {
        match self.state.repo(owner, name) {
            Some(repo) => repo.id,
            None => panic!("fake GitHub: no repository {owner}/{name}; call add_repo first"),
        }
    }

    /// Replaces the star history of a repository with the stars gained on each day (days
    /// not named gained none; a day named twice adds up). Panics if the repository does not
    /// exist. The repository's `stargazers_count` is left as it is (see `set_repo_counts`).
    pub fn set_star_history(&self, owner: &str, name: &str, daily_gains: Vec<(NaiveDate, i64)>) {
        let id = self.repo_id(owner, name);
        let mut days = BTreeMap::new();
        for (day, gain) in daily_gains {
            *days.entry(day).or_insert(0) += gain;
        }
        self.state.star_history.lock().insert(id, days);
    }

    /// Adds `gain` stars gained on `day` to a repository's history. Panics if the repository
    /// does not exist.
    pub fn add_star_gain(&self, owner: &str, name: &str, day: NaiveDate, gain: i64) {
        let id = self.repo_id(owner, name);
        *self
            .state
            .star_history
            .lock()
            .entry(id)
            .or_default()
            .entry(day)
            .or_insert(0) += gain;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Week {
    /// Its Sunday.
    pub start: NaiveDate,
    /// Gains from Sunday to Saturday.
    pub days: [i64; 7],
}

/// The Sunday starting `day`'s week.
fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_sunday()))
}

/// Every week from the first recorded day's to the last's, newest first.
pub(crate) fn weeks(daily: &BTreeMap<NaiveDate, i64>) -> Vec<Week> {
    let (Some((&first, _)), Some((&last, _))) = (daily.first_key_value(), daily.last_key_value())
    else {
        return Vec::new();
    };
    let mut weeks = Vec::new();
    let mut start = week_start(last);
    while start >= week_start(first) {
        let mut days = [0; 7];
        for (offset, gain) in days.iter_mut().enumerate() {
            let day = start + Duration::days(i64::try_from(offset).unwrap_or(0));
            *gain = daily.get(&day).copied().unwrap_or(0);
        }
        weeks.push(Week { start, days });
        start -= Duration::weeks(1);
    }
    weeks
}

fn week_json(week: &Week) -> Value {
    let unix = week
        .start
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    json!({
        "week": unix,
        "total": week.days.iter().sum::<i64>(),
        "days": week.days,
    })
}

/// `GET /repos/{owner}/{repo}/stargazers/history?per_page=&page=`.
pub(crate) async fn stargazers_history(
    AxumState(state): AxumState<Arc<State>>,
    Path((owner, name)): Path<(String, String)>,
    req: Req,
) -> Response {
    let Some(repo) = state.repo(&owner, &name) else {
        return not_found();
    };
    let weeks = state
        .star_history
        .lock()
        .get(&repo.id)
        .map(weeks)
        .unwrap_or_default();
    let opts = ListOpts {
        max_per_page: Some(MAX_WEEKS_PER_PAGE),
        max_page: Some(MAX_PAGE),
        ..ListOpts::default()
    };
    list_json(&req, &weeks, opts, week_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn weeks_start_on_sunday_and_run_newest_first() {
        // 2026-06-07 is a Sunday.
        let daily = BTreeMap::from([
            (day("2026-06-09"), 2),
            (day("2026-06-13"), 5),
            (day("2026-06-22"), 1),
        ]);
        let weeks = weeks(&daily);
        assert_eq!(
            weeks,
            vec![
                Week {
                    start: day("2026-06-21"),
                    days: [0, 1, 0, 0, 0, 0, 0]
                },
                Week {
                    start: day("2026-06-14"),
                    days: [0; 7]
                },
                Week {
                    start: day("2026-06-07"),
                    days: [0, 0, 2, 0, 0, 0, 5]
                },
            ]
        );
        let first = week_json(&weeks[2]);
        assert_eq!(first["week"], 1_780_790_400, "2026-06-07T00:00:00Z");
        assert_eq!(first["total"], 7);
    }

    #[test]
    fn no_history_is_no_weeks() {
        assert!(weeks(&BTreeMap::new()).is_empty());
    }
}
