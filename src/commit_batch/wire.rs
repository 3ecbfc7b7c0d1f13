//! The types of a commit batch on the wire: what clients send (read leniently, so that
//! validation can name every problem) and what the server answers.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One commit as sent by a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitIn {
    /// 40 hexadecimal digits (stored lowercased).
    #[schema(
        pattern = "^[0-9A-Fa-f]{40}$",
        example = "abc123def456abc123def456abc123def456abc1"
    )]
    pub sha: String,
    /// 1–255 characters, not all blank.
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub author_name: String,
    /// 1–255 characters, not all blank (stored lowercased).
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub author_email: String,
    /// 1–255 characters, not all blank; defaults to the author.
    #[schema(
        required = false,
        nullable,
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub committer_name: String,
    /// 1–255 characters, not all blank; defaults to the author's email.
    #[schema(
        required = false,
        nullable,
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub committer_email: String,
    /// ISO 8601: `2026-01-02T12:00:00Z`, `T` or a space, optional fractional seconds and
    /// offset; no offset means UTC.
    #[schema(
        max_length = 64,
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$",
        example = "2026-01-02T12:00:00Z"
    )]
    pub commit_date: String,
    /// The first line of the message, 1–500 characters, not all blank.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub message_title: String,
    /// The rest of the message.
    pub message_body: Option<String>,
    /// Lines added (≥ 0, default 0).
    #[schema(required = false, nullable, minimum = 0)]
    pub additions: i64,
    /// Lines deleted (≥ 0, default 0).
    #[schema(required = false, nullable, minimum = 0)]
    pub deletions: i64,
    /// Files changed (≥ 0, default 0).
    #[schema(required = false, nullable, minimum = 0)]
    pub files_changed: i64,
    /// Default: `parent_count > 1`.
    #[schema(required = false, nullable)]
    pub is_merge: bool,
    /// ≥ 0, default 1 (2 when `is_merge`).
    #[schema(required = false, nullable, minimum = 0)]
    pub parent_count: i32,
}

/// One element of `commits` as sent, read straight from the request body without building
/// a JSON tree, and kept only as far as validation needs: each field is absent/null
/// (`None`) or a [`Wire`] value of whatever type the client sent.
#[derive(Debug)]
pub enum WireEntry {
    Commit(Box<WireCommit>),
    /// Not a JSON object.
    NotObject,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireCommit {
    pub(super) sha: Option<Wire>,
    pub(super) author_name: Option<Wire>,
    pub(super) author_email: Option<Wire>,
    pub(super) committer_name: Option<Wire>,
    pub(super) committer_email: Option<Wire>,
    pub(super) commit_date: Option<Wire>,
    pub(super) message_title: Option<Wire>,
    pub(super) message_body: Option<Wire>,
    pub(super) additions: Option<Wire>,
    pub(super) deletions: Option<Wire>,
    pub(super) files_changed: Option<Wire>,
    pub(super) is_merge: Option<Wire>,
    pub(super) parent_count: Option<Wire>,
}

/// A JSON value reduced to what validation distinguishes.
#[derive(Debug)]
pub enum Wire {
    Text(String),
    Integer(i64),
    Bool(bool),
    /// Any other number, array or object.
    Other,
}

impl From<CommitIn> for WireEntry {
    fn from(c: CommitIn) -> Self {
        let text = |s: String| Some(Wire::Text(s));
        let int = |n: i64| Some(Wire::Integer(n));
        WireEntry::Commit(Box::new(WireCommit {
            sha: text(c.sha),
            author_name: text(c.author_name),
            author_email: text(c.author_email),
            committer_name: text(c.committer_name),
            committer_email: text(c.committer_email),
            commit_date: text(c.commit_date),
            message_title: text(c.message_title),
            message_body: c.message_body.map(Wire::Text),
            additions: int(c.additions),
            deletions: int(c.deletions),
            files_changed: int(c.files_changed),
            is_merge: Some(Wire::Bool(c.is_merge)),
            parent_count: int(i64::from(c.parent_count)),
        }))
    }
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WireVisitor;
        impl<'de> Visitor<'de> for WireVisitor {
            type Value = Wire;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Wire, E> {
                Ok(Wire::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Wire, E> {
                Ok(Wire::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Wire, E> {
                Ok(Wire::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Wire, E> {
                Ok(i64::try_from(v).map_or(Wire::Other, Wire::Integer))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Wire, E> {
                Ok(crate::json_number::whole_number(v).map_or(Wire::Other, Wire::Integer))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Wire, E> {
                Ok(Wire::Bool(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wire, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Wire::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Wire::Other)
            }
        }
        deserializer.deserialize_any(WireVisitor)
    }
}

impl<'de> Deserialize<'de> for WireEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = WireEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a commit object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WireEntry, A::Error> {
                let commit = WireCommit::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(WireEntry::Commit(Box::new(commit)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WireEntry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(WireEntry::NotObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitResult {
    pub sha: String,
    /// False when the commit was already stored (skipped).
    pub inserted: bool,
    /// Always null: a batch with an invalid commit is refused as a whole (400).
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushResult {
    pub total: usize,
    pub inserted: usize,
    pub skipped: usize,
    pub errors: usize,
    /// The last commit of the batch: everything up to it is stored.
    pub last_ingested_sha: Option<String>,
    pub details: Vec<CommitResult>,
}
