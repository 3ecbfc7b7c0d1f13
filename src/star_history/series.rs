//! From GitHub's weeks to daily cumulative counts: gains per day, then counts anchored on
//! today's `stargazers_count` (value(day) = current − stars gained after that day).

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate};

use crate::github::star_history::StarWeek;

/// Stars gained per day. A week without `days` puts its `total` on its first day.
pub fn daily_gains(weeks: &[StarWeek]) -> BTreeMap<NaiveDate, i64> {
    let mut gains = BTreeMap::new();
    for week in weeks {
        let Some(start) = week_start(week) else {
            continue;
        };
        if week.days.is_empty() {
            *gains.entry(start).or_insert(0) += week.total;
            continue;
        }
        for (offset, gain) in week.days.iter().enumerate() {
            let day = start.checked_add_days(Days::new(offset as u64));
            if let Some(day) = day.filter(|_| *gain != 0) {
                *gains.entry(day).or_insert(0) += gain;
            }
        }
    }
    gains
}

/// The first day of the oldest week.
pub fn oldest_day(weeks: &[StarWeek]) -> Option<NaiveDate> {
    weeks.iter().filter_map(week_start).min()
}

fn week_start(week: &StarWeek) -> Option<NaiveDate> {
    DateTime::from_timestamp(week.week, 0).map(|t| t.date_naive())
}

/// The count at the end of `day` (a day before today): `current` less the gains after it.
pub fn count_on(gains: &BTreeMap<NaiveDate, i64>, current: i64, day: NaiveDate) -> i64 {
    let later: i64 = gains
        .range(day.succ_opt().unwrap_or(NaiveDate::MAX)..)
        .map(|(_, g)| g)
        .sum();
    current - later
}

/// Every day from `from` to `today`, with its count (today's is `current`: gains dated
/// after today, clocks differing, count as today's).
pub fn cumulative(
    gains: &BTreeMap<NaiveDate, i64>,
    current: i64,
    from: NaiveDate,
    today: NaiveDate,
) -> Vec<(NaiveDate, i64)> {
    let mut days = Vec::new();
    let mut value = current;
    let mut day = today;
    while day >= from {
        days.push((day, value));
        value -= if day == today {
            gains.range(today..).map(|(_, g)| g).sum()
        } else {
            gains.get(&day).copied().unwrap_or(0)
        };
        let Some(previous) = day.pred_opt() else {
            break;
        };
        day = previous;
    }
    days.reverse();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn week(start: &str, days: [i64; 7]) -> StarWeek {
        let week = day(start)
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default();
        StarWeek {
            week,
            total: days.iter().sum(),
            days: days.to_vec(),
        }
    }

    #[test]
    fn counts_are_anchored_on_today() {
        // 2026-06-07 is a Sunday; newest week first, as GitHub sends them.
        let weeks = [
            week("2026-06-14", [0, 1, 0, 0, 0, 0, 0]),
            week("2026-06-07", [0, 0, 2, 0, 0, 0, 5]),
        ];
        let gains = daily_gains(&weeks);
        assert_eq!(oldest_day(&weeks), Some(day("2026-06-07")));
        let series = cumulative(&gains, 8, day("2026-06-08"), day("2026-06-16"));
        assert_eq!(series.first(), Some(&(day("2026-06-08"), 0)));
        assert_eq!(series[1], (day("2026-06-09"), 2));
        assert_eq!(series[5], (day("2026-06-13"), 7));
        assert_eq!(series[7], (day("2026-06-15"), 8));
        assert_eq!(series.last(), Some(&(day("2026-06-16"), 8)));
        assert_eq!(count_on(&gains, 8, day("2026-06-12")), 2);
    }

    #[test]
    fn gains_after_today_count_as_today() {
        let gains = BTreeMap::from([(day("2026-06-10"), 3), (day("2026-06-12"), 1)]);
        let series = cumulative(&gains, 4, day("2026-06-10"), day("2026-06-11"));
        assert_eq!(series, [(day("2026-06-10"), 3), (day("2026-06-11"), 4)]);
    }

    #[test]
    fn a_week_without_days_counts_on_its_first_day() {
        let mut w = week("2026-06-07", [0; 7]);
        w.days.clear();
        w.total = 4;
        assert_eq!(daily_gains(&[w]), BTreeMap::from([(day("2026-06-07"), 4)]));
    }
}
