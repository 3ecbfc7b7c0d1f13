//! The demo world: what the standalone binary serves by default, so that every gitpulse
//! feature has data offline (tests may seed it too).
//!
//! - users `octocat` (The Octocat), `monalisa`, `hubot`, `defunkt`;
//! - the organization `acme` (members octocat, monalisa, hubot) with `acme/widgets` and
//!   `acme/gadgets`: commits, pull requests, issues and issue events;
//! - `octocat/Hello-World` and `octocat/Spoon-Knife` (with commits, an issue and a pull
//!   request on Hello-World), `monalisa/octo-app`;
//! - on every repository: stargazer/fork/watcher counts, 40 recent events of varied types
//!   and a year of star history that adds up to its stargazers;
//! - `demo/repo-0..N-1` with 50 events each, for benchmarks.
//!
//! Signing in as octocat (see `set_authorize_as`) syncs the organization, its members, four
//! repositories and their commits, pull requests, issues and issue events.

use chrono::{Duration, Utc};

use crate::server::FakeGitHub;
use crate::types::FakeEvent;

/// The login the standalone binary signs in as by default.
pub const DEMO_LOGIN: &str = "octocat";

const EVENT_TYPES: [&str; 6] = [
    "PushEvent",
    "WatchEvent",
    "IssuesEvent",
    "PullRequestEvent",
    "ForkEvent",
    "IssueCommentEvent",
];
const ACTORS: [&str; 4] = ["octocat", "monalisa", "hubot", "defunkt"];

/// Owner, name, stargazers, forks, watchers.
const REPOSITORIES: [(&str, &str, i64, i64, i64); 5] = [
    ("octocat", "Hello-World", 2900, 2600, 160),
    ("octocat", "Spoon-Knife", 12800, 150_000, 320),
    ("monalisa", "octo-app", 42, 7, 5),
    ("acme", "widgets", 310, 45, 21),
    ("acme", "gadgets", 87, 12, 9),
];

/// Owner, name, how many commits, their messages (cycled).
const COMMITS: [(&str, &str, usize); 4] = [
    ("acme", "widgets", 40),
    ("acme", "gadgets", 12),
    ("octocat", "Hello-World", 6),
    ("octocat", "Spoon-Knife", 3),
];
const MESSAGES: [&str; 8] = [
    "Fix the login bug",
    "Add widget caching",
    "Update the README",
    "Refactor the parser",
    "Fix a crash on start",
    "Bump dependencies",
    "Add turbo mode",
    "Document the API",
];
const AUTHORS: [&str; 4] = ["octocat", "monalisa", "hubot", "Grace Hopper"];

/// A repository of the demo world with its counts (the `--live` ticker moves them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRepo {
    pub owner: String,
    pub name: String,
    pub stars: i64,
    pub forks: i64,
    pub watchers: i64,
}

impl FakeGitHub {
    /// Seeds the demo world (see the module documentation) plus `extra_repos` repositories
    /// `demo/repo-0..N-1`; returns every repository with its counts.
    pub fn seed_demo_world(&self, extra_repos: usize) -> Vec<DemoRepo> {
        self.add_user("octocat", Some("The Octocat"));
        self.add_user("monalisa", Some("Mona Lisa Octocat"));
        self.add_user("hubot", None);
        self.add_user("defunkt", Some("Chris Wanstrath"));
        self.add_org("acme", "Acme Corporation");
        for member in ["octocat", "monalisa", "hubot"] {
            self.add_org_member("acme", member);
        }
        let mut all = Vec::new();
        for (salt, (owner, name, stars, forks, watchers)) in REPOSITORIES.into_iter().enumerate() {
            self.add_repo(owner, name);
            self.set_repo_counts(owner, name, stars, forks, watchers);
            self.push_events(owner, name, self.demo_events(40, salt));
            self.set_star_history(owner, name, star_gains(stars, 365, salt));
            all.push(demo_repo(owner, name, stars, forks, watchers));
        }
        self.seed_activity();
        for i in 0..extra_repos {
            let name = format!("repo-{i}");
            self.add_repo("demo", &name);
            let n = i64::try_from(i).unwrap_or(0);
            let (stars, forks, watchers) = (10 + n * 3, n, 1 + n % 7);
            self.set_repo_counts("demo", &name, stars, forks, watchers);
            self.push_events("demo", &name, self.demo_events(50, i));
            all.push(demo_repo("demo", &name, stars, forks, watchers));
        }
        all
    }

    /// `count` events of varied types and actors, one every 10 minutes up to now.
    pub fn demo_events(&self, count: usize, salt: usize) -> Vec<FakeEvent> {
        let now = Utc::now();
        (0..count)
            .map(|i| {
                let back = i64::try_from(count - i).unwrap_or(i64::MAX / 600);
                FakeEvent {
                    id: self.next_event_id(),
                    event_type: EVENT_TYPES[(i + salt) % EVENT_TYPES.len()].to_string(),
                    created_at: now - Duration::minutes(10 * back),
                    actor_login: ACTORS[(i * 7 + salt) % ACTORS.len()].to_string(),
                }
            })
            .collect()
    }

    /// Commits over the last 30 days, pull requests, issues and issue events.
    fn seed_activity(&self) {
        let start = Utc::now() - Duration::days(30);
        let mut n = 0usize;
        for (owner, name, count) in COMMITS {
            for i in 0..count {
                let minutes = i64::try_from(i * 30 * 24 * 60 / count).unwrap_or(0);
                let message = MESSAGES[n % MESSAGES.len()];
                let author = AUTHORS[n % AUTHORS.len()];
                self.add_commit(
                    owner,
                    name,
                    message,
                    author,
                    start + Duration::minutes(minutes),
                );
                n += 1;
            }
        }
        let crash = self.add_issue(
            "acme",
            "widgets",
            "Crash on start",
            "The app crashes when the widget cache is empty.",
            "hubot",
        );
        let twice = self.add_issue(
            "acme",
            "widgets",
            "Widgets render twice",
            "Every widget shows up two times on the dashboard.",
            "monalisa",
        );
        self.add_pull(
            "acme",
            "widgets",
            "Add turbo mode",
            "Faster widgets, behind a flag.",
            "octocat",
        );
        self.add_pull(
            "acme",
            "gadgets",
            "Fix the gadget layout",
            "Fixes the overlap on small screens.",
            "monalisa",
        );
        self.add_issue(
            "octocat",
            "Hello-World",
            "Say hello in French",
            "Bonjour, le monde !",
            "defunkt",
        );
        self.add_pull(
            "octocat",
            "Hello-World",
            "Fix a typo in the greeting",
            "Hello, World (not Wrold).",
            "monalisa",
        );
        self.add_issue_event("acme", "widgets", crash, "labeled", "octocat");
        self.add_issue_event("acme", "widgets", crash, "assigned", "octocat");
        self.add_issue_event("acme", "widgets", twice, "closed", "hubot");
    }
}

fn demo_repo(owner: &str, name: &str, stars: i64, forks: i64, watchers: i64) -> DemoRepo {
    DemoRepo {
        owner: owner.to_string(),
        name: name.to_string(),
        stars,
        forks,
        watchers,
    }
}

/// `total` stars spread over the `days` days up to today, growing and uneven, adding up
/// exactly to `total` (each day gains what rounds the running total up to its share).
fn star_gains(total: i64, days: usize, salt: usize) -> Vec<(chrono::NaiveDate, i64)> {
    let today = Utc::now().date_naive();
    let weights: Vec<i64> = (0..days)
        .map(|i| {
            let jitter = (i * i * 31 + salt * 17 + i * 7) % 11;
            i64::try_from((1 + jitter) * (days + i)).unwrap_or(1)
        })
        .collect();
    let sum: i64 = weights.iter().sum::<i64>().max(1);
    let (mut weight_so_far, mut stars_so_far) = (0, 0);
    weights
        .into_iter()
        .enumerate()
        .map(|(i, weight)| {
            weight_so_far += weight;
            let stars = total * weight_so_far / sum;
            let gain = stars - stars_so_far;
            stars_so_far = stars;
            let back = i64::try_from(days - 1 - i).unwrap_or(0);
            (today - Duration::days(back), gain)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::star_gains;

    #[test]
    fn star_gains_add_up_to_the_stargazers() {
        for (total, salt) in [(2900, 0), (12800, 1), (42, 2), (0, 3)] {
            let gains = star_gains(total, 365, salt);
            assert_eq!(gains.len(), 365);
            assert_eq!(gains.iter().map(|(_, g)| g).sum::<i64>(), total);
            assert!(gains.iter().all(|(_, g)| *g >= 0));
            assert!(gains.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
        }
    }
}
