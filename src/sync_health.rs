//! Sync health: for one user, every kind of sync that keeps their data fresh (tracked
//! repositories' event polls, tracked accounts' daily scans, the GitHub integration, `pull`
//! repositories, backup registrations), each judged `ok`, `stale` (its last success is
//! older than twice its interval) or `failing` (its last attempt failed); and, across all
//! users, the lag gauges of `/metrics`.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::auth::api_key::Scope;
use crate::config::Config;
use crate::event_gaps;
use crate::state::AppState;
use crate::store::{integrations, sync_health as store};

/// How an item is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    Ok,
    /// The last success is older than twice the interval (or, never synced, the item is).
    Stale,
    /// The last attempt failed.
    Failing,
}

/// Judges one item: `failing` if its last attempt failed, else `stale` if its last success
/// (or, never synced, its creation) is older than twice `interval_secs`, else `ok`.
pub fn judge(
    now: DateTime<Utc>,
    failing: bool,
    last_success: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    interval_secs: Option<i64>,
) -> Freshness {
    if failing {
        return Freshness::Failing;
    }
    let reference = last_success.unwrap_or(since);
    match interval_secs {
        Some(interval) if (now - reference).num_seconds() > interval.saturating_mul(2) => {
            Freshness::Stale
        }
        _ => Freshness::Ok,
    }
}

/// One item of the answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncItem {
    /// `owner/name` (repositories), the login (accounts, the integration),
    /// `project/repository` (pull) or `company_id/repository_name` (backups).
    pub name: String,
    pub status: Freshness,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When the next attempt is due (`null`: not scheduled; backups run on pushes).
    pub next_run: Option<DateTime<Utc>>,
    /// The interval its staleness is judged by (`null`: never stale).
    pub interval_secs: Option<i64>,
    /// Repositories: event gaps recorded (the 300-event window overrun) and the newest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_gaps: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_gap_at: Option<DateTime<Utc>>,
    /// The integration: `idle`, `running`, `finished` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The integration: documents written by the last sync (`removed`: by a full pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub counts: Option<Value>,
}

impl SyncItem {
    fn new(name: String, status: Freshness) -> Self {
        Self {
            name,
            status,
            last_success: None,
            last_error: None,
            next_run: None,
            interval_secs: None,
            event_gaps: None,
            last_gap_at: None,
            state: None,
            counts: None,
        }
    }
}

/// `GET /sync/health`. A section the caller's API key may not read is `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncHealth {
    /// The worst status of all items (`ok` when there are none).
    pub status: Freshness,
    pub checked_at: DateTime<Utc>,
    /// Tracked repositories' event polls (`read:tracking`).
    pub repositories: Option<Vec<SyncItem>>,
    /// Tracked accounts' daily scans (`read:tracking`).
    pub accounts: Option<Vec<SyncItem>>,
    /// The GitHub integration (`read:data`); `null` also when not connected.
    pub integration: Option<SyncItem>,
    /// `pull` repositories of the caller's projects (`read:repos`).
    pub pull_repositories: Option<Vec<SyncItem>>,
    /// Backup registrations (`read:backups`).
    pub backups: Option<Vec<SyncItem>>,
}

/// The interval of the daily statistics scan.
fn scan_interval(config: &Config) -> i64 {
    config
        .stats_interval_secs
        .map_or(86_400, |s| i64::try_from(s).unwrap_or(i64::MAX))
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The health of every sync `auth` may see.
pub async fn for_user(state: &AppState, auth: &AuthUser) -> Result<SyncHealth, sqlx::Error> {
    let (db, config, now) = (&state.db, &state.config, Utc::now());
    let user = auth.user_id;
    let may = |scope| auth.scopes.contains(scope);
    let mut answer = SyncHealth {
        status: Freshness::Ok,
        checked_at: now,
        repositories: None,
        accounts: None,
        integration: None,
        pull_repositories: None,
        backups: None,
    };
    if may(Scope::ReadTracking) {
        let rows = store::repositories(db, user).await?;
        answer.repositories = Some(
            rows.into_iter()
                .map(|r| repository(config, now, r))
                .collect(),
        );
        let interval = scan_interval(config);
        let rows = store::accounts(db, user).await?;
        answer.accounts = Some(
            rows.into_iter()
                .map(|a| {
                    let status = judge(now, false, a.last_scan, a.created_at, Some(interval));
                    let mut item = SyncItem::new(a.login, status);
                    item.last_success = a.last_scan;
                    item.interval_secs = Some(interval);
                    item
                })
                .collect(),
        );
    }
    if may(Scope::ReadData)
        && let Some(i) = integrations::find_for_user(db, user).await?
    {
        answer.integration = Some(integration(config, now, i));
    }
    if may(Scope::ReadRepos) {
        let interval = secs(config.pull_sync_interval_secs);
        let rows = store::pulls(db, user).await?;
        answer.pull_repositories = Some(
            rows.into_iter()
                .map(|p| {
                    let failing = p.sync_status == "error";
                    let status = judge(now, failing, p.last_sync_at, p.created_at, Some(interval));
                    let mut item = SyncItem::new(p.name, status);
                    item.last_success = p.last_sync_at;
                    item.last_error = p.error_message.filter(|_| failing);
                    item.next_run = p.next_pull_at;
                    item.interval_secs = Some(interval);
                    item
                })
                .collect(),
        );
    }
    if may(Scope::ReadBackups) {
        let rows = store::backups(db, user).await?;
        answer.backups = Some(
            rows.into_iter()
                .map(|b| {
                    let status = judge(now, b.last_error_at.is_some(), b.last_success, now, None);
                    let mut item = SyncItem::new(b.name, status);
                    item.last_success = b.last_success;
                    item.last_error = b.last_error;
                    item
                })
                .collect(),
        );
    }
    answer.status = worst(&answer);
    Ok(answer)
}

fn repository(config: &Config, now: DateTime<Utc>, r: store::RepositoryRow) -> SyncItem {
    let interval = event_gaps::current_interval(
        config.events_poll_interval_secs,
        r.poll_interval_secs,
        r.busy_interval_secs,
    );
    let status = judge(
        now,
        r.last_error.is_some(),
        r.last_synchronized,
        r.created_at,
        Some(interval),
    );
    let mut item = SyncItem::new(r.name, status);
    item.last_success = r.last_synchronized;
    item.last_error = r.last_error;
    item.next_run = Some(r.next_poll_at);
    item.interval_secs = Some(interval);
    item.event_gaps = Some(r.event_gaps);
    item.last_gap_at = r.last_gap_at;
    item
}

fn integration(config: &Config, now: DateTime<Utc>, i: integrations::Integration) -> SyncItem {
    let interval = secs(config.integration_sync_interval_secs);
    let failing = i.sync_state == "failed" || i.needs_reconnect;
    let status = judge(now, failing, i.last_sync, i.connected_at, Some(interval));
    let mut item = SyncItem::new(i.github_login.clone(), status);
    item.last_success = i.last_sync;
    item.last_error = i.sync_error.clone().filter(|_| failing);
    item.next_run = (!i.needs_reconnect).then(|| i.next_sync_at.unwrap_or(i.connected_at));
    item.interval_secs = Some(interval);
    item.state = Some(i.sync_state.clone());
    item.counts = i.sync_counts.clone();
    item
}

fn worst(answer: &SyncHealth) -> Freshness {
    let lists = [
        &answer.repositories,
        &answer.accounts,
        &answer.pull_repositories,
        &answer.backups,
    ];
    lists
        .into_iter()
        .flatten()
        .flatten()
        .chain(answer.integration.as_ref())
        .map(|item| item.status)
        .max()
        .unwrap_or(Freshness::Ok)
}

/// The lag gauges for `/metrics`, across all users: `gitpulse_sync_lag_seconds{kind}` (the
/// oldest last success of that kind) and `gitpulse_sync_failing{kind}` (items failing).
pub async fn gauges(state: &AppState) -> Result<String, sqlx::Error> {
    let kinds = store::lag_by_kind(&state.db).await?;
    let mut out = String::new();
    out.push_str("# HELP gitpulse_sync_lag_seconds Seconds since the least recently synced item of each kind last synced.\n");
    out.push_str("# TYPE gitpulse_sync_lag_seconds gauge\n");
    for k in &kinds {
        if let Some(lag) = k.lag_secs {
            let _ = writeln!(
                out,
                "gitpulse_sync_lag_seconds{{kind=\"{}\"}} {:.0}",
                k.kind,
                lag.max(0.0)
            );
        }
    }
    out.push_str("# HELP gitpulse_sync_failing Items whose last sync attempt failed, by kind.\n");
    out.push_str("# TYPE gitpulse_sync_failing gauge\n");
    for k in &kinds {
        let _ = writeln!(
            out,
            "gitpulse_sync_failing{{kind=\"{}\"}} {}",
            k.kind, k.failing
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_failing_then_stale_then_ok() {
        let now = Utc::now();
        let ago = |s: i64| now - chrono::Duration::seconds(s);
        assert_eq!(
            judge(now, true, Some(now), now, Some(60)),
            Freshness::Failing
        );
        assert_eq!(
            judge(now, false, Some(ago(119)), now, Some(60)),
            Freshness::Ok
        );
        assert_eq!(
            judge(now, false, Some(ago(121)), now, Some(60)),
            Freshness::Stale
        );
        // Never synced: judged from its creation.
        assert_eq!(judge(now, false, None, ago(30), Some(60)), Freshness::Ok);
        assert_eq!(
            judge(now, false, None, ago(500), Some(60)),
            Freshness::Stale
        );
        // No interval: never stale.
        assert_eq!(
            judge(now, false, None, ago(10_000_000), None),
            Freshness::Ok
        );
        assert!(Freshness::Failing > Freshness::Stale && Freshness::Stale > Freshness::Ok);
    }
}
