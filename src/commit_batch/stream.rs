//! A push body read commit by commit, so that the commits can be written while the rest of
//! the body is still being read: each commit is validated as soon as it is parsed and
//! handed on; the verdict on the whole batch (the same as [`super::validate_batch`]'s)
//! comes at the end.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::validate::BatchValidator;
use super::wire::WireEntry;
use crate::error::AppError;
use crate::store::commits::NewCommit;

/// What reading a push body found: the client's version and the verdict on the batch.
#[derive(Debug)]
pub struct ReadBody {
    pub client_version: Option<String>,
    pub verdict: Result<(), AppError>,
}

/// Reads `body`, a JSON object `{"commits": [...], "client_version": "..."}`. Each valid
/// commit goes to `sink` as `Some(commit)` as soon as it is read, until the batch turns out
/// invalid: then `None`, once, and nothing more (the rest is still read, so that the verdict
/// lists every problem). `sink` answers `false` when nobody listens any more: reading stops.
/// A body that is not JSON (or not of this shape) is the `Err`.
pub fn read_push_body(
    body: &[u8],
    mut sink: impl FnMut(Option<NewCommit>) -> bool,
) -> Result<ReadBody, serde_json::Error> {
    let mut reader = Reader {
        validator: BatchValidator::default(),
        sink: &mut sink,
        refused: false,
        listening: true,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let (present, client_version) = deserializer.deserialize_struct(
        "PushCommits",
        &["commits", "client_version"],
        TopVisitor(&mut reader),
    )?;
    deserializer.end()?;
    let Reader { validator, .. } = reader;
    Ok(ReadBody {
        client_version,
        verdict: validator.finish(present),
    })
}

struct Reader<'s> {
    validator: BatchValidator,
    sink: &'s mut dyn FnMut(Option<NewCommit>) -> bool,
    /// `None` was handed on.
    refused: bool,
    listening: bool,
}

impl Reader<'_> {
    fn take(&mut self, entry: WireEntry) {
        let commit = self.validator.push(entry);
        if self.refused || !self.listening {
            return;
        }
        if self.validator.is_valid() {
            if let Some(commit) = commit {
                self.listening = (self.sink)(Some(commit));
            }
        } else {
            self.refused = true;
            self.listening = (self.sink)(None);
        }
    }
}

/// The body: `(commits present, client_version)`.
struct TopVisitor<'r, 's>(&'r mut Reader<'s>);

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = (bool, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct PushCommits")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut commits: Option<bool> = None;
        let mut client_version: Option<Option<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "commits" if commits.is_some() => {
                    return Err(de::Error::duplicate_field("commits"));
                }
                "commits" => commits = Some(map.next_value_seed(CommitsSeed(&mut *self.0))?),
                "client_version" if client_version.is_some() => {
                    return Err(de::Error::duplicate_field("client_version"));
                }
                "client_version" => client_version = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((commits.unwrap_or(false), client_version.flatten()))
    }
}

/// `commits`: absent or null (`false`), or a sequence of commits read one by one.
struct CommitsSeed<'r, 's>(&'r mut Reader<'s>);

impl<'de> DeserializeSeed<'de> for CommitsSeed<'_, '_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for CommitsSeed<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(entry) = seq.next_element::<WireEntry>()? {
            self.0.take(entry);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit_batch::validate_batch;
    use serde_json::json;

    fn commit(i: usize) -> serde_json::Value {
        json!({
            "sha": format!("{i:040x}"), "author_name": "A", "author_email": "A@example.com",
            "commit_date": "2026-01-02T12:00:00Z", "message_title": "t",
        })
    }

    /// What the reader hands on, and its verdict, next to `validate_batch` on the same body.
    fn read(body: &serde_json::Value) -> (Vec<Option<String>>, ReadBody) {
        let bytes = serde_json::to_vec(body).expect("json");
        let mut handed = Vec::new();
        let read = read_push_body(&bytes, |c| {
            handed.push(c.map(|c| c.sha));
            true
        })
        .expect("well-formed");
        (handed, read)
    }

    fn whole(body: &serde_json::Value) -> Result<Vec<NewCommit>, AppError> {
        #[derive(serde::Deserialize)]
        struct Push {
            commits: Option<Vec<WireEntry>>,
        }
        let push: Push = serde_json::from_value(body.clone()).expect("shape");
        validate_batch(push.commits)
    }

    #[test]
    fn valid_commits_are_handed_on_as_they_are_read() {
        let body = json!({"client_version": "v1", "commits": [commit(1), commit(2)]});
        let (handed, read) = read(&body);
        assert_eq!(
            handed,
            [Some(format!("{:040x}", 1)), Some(format!("{:040x}", 2))]
        );
        assert_eq!(read.client_version.as_deref(), Some("v1"));
        assert!(read.verdict.is_ok());
        assert_eq!(whole(&body).expect("valid").len(), 2);
    }

    #[test]
    fn the_first_problem_stops_the_handing_on_and_the_verdict_is_validate_batchs() {
        let mut bad = commit(3);
        bad["sha"] = json!("xyz");
        for body in [
            json!({"commits": [commit(1), bad, commit(4), commit(1)]}),
            json!({"commits": [commit(1), commit(1)]}),
            json!({"commits": []}),
            json!({"commits": null}),
            json!({"other": 1}),
            json!({"commits": (0..1001).map(commit).collect::<Vec<_>>()}),
        ] {
            let (handed, read) = read(&body);
            let expected = whole(&body).expect_err("invalid").to_string();
            assert_eq!(read.verdict.expect_err("invalid").to_string(), expected);
            let refused_at = handed.iter().position(Option::is_none);
            if let Some(at) = refused_at {
                assert_eq!(
                    at,
                    handed.len() - 1,
                    "nothing after the refusal: {handed:?}"
                );
            }
        }
        let (handed, _) = read(&json!({"commits": [commit(1), bad, commit(4)]}));
        assert_eq!(handed, [Some(format!("{:040x}", 1)), None]);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            &b"{\"commits\": [1, 2"[..],
            b"{\"commits\": \"x\"}",
            b"{\"commits\": [], \"commits\": []}",
            b"{} trailing",
        ] {
            assert!(read_push_body(body, |_| true).is_err(), "{body:?}");
        }
    }

    #[test]
    fn reading_stops_when_nobody_listens() {
        let body = serde_json::to_vec(&json!({"commits": [commit(1), commit(2), commit(3)]}))
            .expect("json");
        let mut calls = 0;
        read_push_body(&body, |_| {
            calls += 1;
            false
        })
        .expect("read");
        assert_eq!(calls, 1);
    }
}
