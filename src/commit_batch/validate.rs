//! Validation of a commit batch: 1–1000 commits, every field valid, no sha twice, every
//! problem named as `commits[i].field` before anything is written.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::wire::{Wire, WireEntry};
use super::{MAX_BATCH, MAX_NAME, MAX_TITLE};
use crate::error::{AppError, FieldError};
use crate::store::commits::NewCommit;

/// At most this many field errors are listed in a 400 answer.
const MAX_LISTED_ERRORS: usize = 50;

/// Validates a whole batch: 1–1000 commits, every field valid, no sha twice. The
/// answer names each problem as `commits[i].field`.
pub fn validate_batch(commits: Option<Vec<WireEntry>>) -> Result<Vec<NewCommit>, AppError> {
    let commits =
        commits.ok_or_else(|| AppError::bad_request("Missing required fields: commits"))?;
    let mut validator = BatchValidator::default();
    let valid: Vec<NewCommit> = commits
        .into_iter()
        .filter_map(|entry| validator.push(entry))
        .collect();
    validator.finish(true)?;
    Ok(valid)
}

/// A batch validated commit by commit, as it is read: [`push`](Self::push) gives each
/// valid commit back at once, [`finish`](Self::finish) the verdict on the whole batch (the
/// same answer [`validate_batch`] gives).
#[derive(Debug, Default)]
pub struct BatchValidator {
    seen: HashMap<String, usize>,
    errors: Vec<FieldError>,
    count: usize,
}

impl BatchValidator {
    /// Validates the batch's next commit: `Some` when it is valid and its sha is new in the
    /// batch. Past [`MAX_BATCH`] commits, nothing more is validated (the batch is refused).
    pub fn push(&mut self, entry: WireEntry) -> Option<NewCommit> {
        let index = self.count;
        self.count += 1;
        if self.count > MAX_BATCH {
            return None;
        }
        match validate_commit(entry) {
            Ok(commit) => {
                if let Some(first) = self.seen.insert(commit.sha.clone(), index) {
                    self.errors.push(FieldError {
                        field: format!("commits[{index}].sha"),
                        message: format!("duplicate sha {} (also at commits[{first}])", commit.sha),
                    });
                    return None;
                }
                Some(commit)
            }
            Err(problems) => {
                self.errors
                    .extend(problems.into_iter().map(|(field, message)| FieldError {
                        field: format!("commits[{index}].{field}"),
                        message,
                    }));
                None
            }
        }
    }

    /// Whether every commit so far is valid (and there are not too many).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && self.count <= MAX_BATCH
    }

    /// The verdict: `present` says whether the body had `commits` at all.
    pub fn finish(mut self, present: bool) -> Result<(), AppError> {
        if !present {
            return Err(AppError::bad_request("Missing required fields: commits"));
        }
        if self.count == 0 || self.count > MAX_BATCH {
            return Err(AppError::bad_request(format!(
                "commits must hold 1 to {MAX_BATCH} commits, got {}",
                self.count
            )));
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        let first = &self.errors[0];
        let message = format!(
            "Invalid commit batch ({} problem{}); nothing was stored. First: {} {}",
            self.errors.len(),
            if self.errors.len() == 1 { "" } else { "s" },
            first.field,
            first.message
        );
        self.errors.truncate(MAX_LISTED_ERRORS);
        Err(AppError::Invalid {
            message,
            errors: self.errors,
        })
    }
}

type Problems = Vec<(&'static str, String)>;

fn validate_commit(entry: WireEntry) -> Result<NewCommit, Problems> {
    let WireEntry::Commit(commit) = entry else {
        return Err(vec![("", "must be a JSON object".into())]);
    };
    let c = *commit;
    let mut problems = Problems::new();
    let mut text = |field: &'static str, value: Option<Wire>, max: usize, required: bool| {
        read_text(value, max, required).unwrap_or_else(|p| {
            problems.push((field, p));
            None
        })
    };
    let sha = text("sha", c.sha, 40, true);
    let author_name = text("author_name", c.author_name, MAX_NAME, true);
    let author_email = text("author_email", c.author_email, MAX_NAME, true);
    let committer_name = text("committer_name", c.committer_name, MAX_NAME, false);
    let committer_email = text("committer_email", c.committer_email, MAX_NAME, false);
    let commit_date = text("commit_date", c.commit_date, 64, true);
    let message_title = text("message_title", c.message_title, MAX_TITLE, true);
    let message_body = text("message_body", c.message_body, usize::MAX, false);
    let mut count = |field: &'static str, value: Option<Wire>, max: i64| {
        read_count(value, max).unwrap_or_else(|p| {
            problems.push((field, p));
            None
        })
    };
    let additions = count("additions", c.additions, i64::MAX);
    let deletions = count("deletions", c.deletions, i64::MAX);
    let files_changed = count("files_changed", c.files_changed, i64::MAX);
    let parent_count = count("parent_count", c.parent_count, i64::from(i32::MAX));
    let is_merge = match c.is_merge {
        None => None,
        Some(Wire::Bool(b)) => Some(b),
        Some(_) => {
            problems.push(("is_merge", "must be true or false".into()));
            None
        }
    };
    let sha = sha.and_then(|mut sha| {
        if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            sha.make_ascii_lowercase();
            Some(sha)
        } else {
            problems.push(("sha", "must be 40 hexadecimal characters".into()));
            None
        }
    });
    let commit_date = commit_date.and_then(|d| match parse_commit_date(&d) {
        Some(date) => Some(date),
        None => {
            problems.push((
                "commit_date",
                "must be an ISO 8601 date-time such as 2026-01-02T12:00:00Z (no offset means UTC)"
                    .into(),
            ));
            None
        }
    });
    let (
        Some(sha),
        Some(author_name),
        Some(author_email),
        Some(commit_date),
        Some(message_title),
        true,
    ) = (
        sha,
        author_name,
        author_email,
        commit_date,
        message_title,
        problems.is_empty(),
    )
    else {
        return Err(problems);
    };
    let parent_count = parent_count.unwrap_or(if is_merge == Some(true) { 2 } else { 1 });
    Ok(NewCommit {
        sha,
        committer_name: committer_name.unwrap_or_else(|| author_name.clone()),
        committer_email: lowercase(committer_email.unwrap_or_else(|| author_email.clone())),
        author_name,
        author_email: lowercase(author_email),
        commit_date,
        message_title,
        message_body: message_body.filter(|b| !b.is_empty()),
        additions: additions.unwrap_or(0),
        deletions: deletions.unwrap_or(0),
        files_changed: files_changed.unwrap_or(0),
        is_merge: is_merge.unwrap_or(parent_count > 1),
        parent_count: i32::try_from(parent_count).unwrap_or(i32::MAX),
    })
}

/// `text` in lower case, reusing it when it already is (most emails are).
fn lowercase(text: String) -> String {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        text
    } else {
        text.to_lowercase()
    }
}

/// A string field: `Ok(None)` when absent and optional; 1..=max characters when present
/// (blank counts as empty), never a NUL (PostgreSQL text cannot hold one).
fn read_text(value: Option<Wire>, max: usize, required: bool) -> Result<Option<String>, String> {
    let value = match value {
        None if required => return Err("is required".into()),
        None => return Ok(None),
        Some(Wire::Text(s)) => s,
        Some(_) => return Err("must be a string".into()),
    };
    if value.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if max == usize::MAX {
        return Ok(Some(value));
    }
    // At most one character per byte: only a long value needs counting.
    if value.trim().is_empty() || (value.len() > max && value.chars().count() > max) {
        return Err(format!("must be 1 to {max} characters"));
    }
    Ok(Some(value))
}

fn read_count(value: Option<Wire>, max: i64) -> Result<Option<i64>, String> {
    match value {
        None => Ok(None),
        Some(Wire::Integer(v)) if (0..=max).contains(&v) => Ok(Some(v)),
        Some(_) => Err("must be a whole number ≥ 0".into()),
    }
}

/// A commit date as the original service accepted it: ISO 8601 with `T` or a space between
/// date and time, optional fractional seconds, and an optional offset (`Z`, `+01:00`,
/// `+0100`); without an offset the time is UTC.
pub(super) fn parse_commit_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    let with_t = text.replacen(' ', "T", 1);
    for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(date) = DateTime::parse_from_str(&with_t, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    let naive = with_t.strip_suffix(['Z', 'z']).unwrap_or(&with_t);
    chrono::NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::parse_commit_date;

    #[test]
    fn commit_dates_as_the_original_service_took_them() {
        let utc = |s: &str| parse_commit_date(s).map(|d| d.to_rfc3339());
        let noon = Some("2026-01-02T12:00:00+00:00".to_string());
        assert_eq!(utc("2026-01-02T12:00:00Z"), noon);
        assert_eq!(utc("2026-01-02T12:00:00"), noon);
        assert_eq!(utc("2026-01-02 12:00:00"), noon);
        assert_eq!(utc("2026-01-02T13:00:00+01:00"), noon);
        assert_eq!(utc("2026-01-02 13:00:00+0100"), noon);
        assert_eq!(
            utc("2026-01-02T12:00:00.250"),
            Some("2026-01-02T12:00:00.250+00:00".to_string())
        );
        for bad in [
            "yesterday",
            "2026-13-02T12:00:00",
            "2026-01-02",
            "2026-01-02T25:00:00",
            "",
        ] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }
}
