//! Keyset paging for the data API: `meta.next_cursor` names where a page ended, and
//! `cursor=` continues from there, so page 500 costs what page 1 does. A cursor is opaque
//! (base64url of a small JSON object) and valid only for the query that made it: the same
//! collection, filter, search and sort (its fingerprint says so).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Longest accepted cursor text.
pub const MAX_CURSOR_LEN: usize = 4096;

/// What the query is, for a cursor's fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct QueryShape<'a> {
    pub collection: &'a str,
    pub filter: Option<&'a str>,
    pub search: Option<&'a str>,
    pub sort_by: Option<&'a str>,
    pub descending: bool,
}

impl QueryShape<'_> {
    fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.collection,
            self.filter.unwrap_or(""),
            self.search.unwrap_or(""),
            self.sort_by.unwrap_or(""),
            if self.descending { "desc" } else { "asc" },
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(&hash.finalize()[..8])
    }
}

/// A decoded cursor: the page it opens, and the key and sort value it continues after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "p")]
    pub page: i64,
    #[serde(rename = "k")]
    pub key: String,
    /// The sort value of the last document, wrapped in a one-element array so that a JSON
    /// `null` value stays apart from no value (`None`: it had none, or there is no sort).
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    sort_value: Option<[Value; 1]>,
    #[serde(rename = "q")]
    fingerprint: String,
}

impl Cursor {
    pub fn new(shape: &QueryShape<'_>, page: i64, key: String, sort_value: Option<Value>) -> Self {
        Self {
            page,
            key,
            sort_value: sort_value.map(|v| [v]),
            fingerprint: shape.fingerprint(),
        }
    }

    /// The sort value of the document the page continues after.
    pub fn sort_value(&self) -> Option<&Value> {
        self.sort_value.as_ref().map(|[v]| v)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The cursor in `text`, if it is one and belongs to this query.
    pub fn decode(text: &str, shape: &QueryShape<'_>) -> Result<Self, String> {
        let invalid = || "Invalid cursor: use the next_cursor of a previous answer".to_string();
        if text.len() > MAX_CURSOR_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.page < 2 || cursor.key.is_empty() {
            return Err(invalid());
        }
        if cursor.fingerprint != shape.fingerprint() {
            return Err(
                "Invalid cursor: it belongs to another query (collection, filter, search and sort must stay the same)"
                    .into(),
            );
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(filter: Option<&str>) -> QueryShape<'_> {
        QueryShape {
            collection: "github_commits",
            filter,
            search: None,
            sort_by: Some("commit.author.date"),
            descending: true,
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_query() {
        let value = Some(serde_json::json!("2026-01-02T00:00:00Z"));
        let cursor = Cursor::new(&shape(None), 7, "abc".into(), value);
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text, &shape(None)), Ok(cursor));
        // A JSON null value is not the same as no value.
        let null = Cursor::new(&shape(None), 2, "k".into(), Some(Value::Null));
        let decoded = Cursor::decode(&null.encode(), &shape(None)).expect("decodes");
        assert_eq!(decoded.sort_value(), Some(&Value::Null));
        let none = Cursor::new(&shape(None), 2, "k".into(), None);
        let decoded = Cursor::decode(&none.encode(), &shape(None)).expect("decodes");
        assert_eq!(decoded.sort_value(), None);
        let other = Cursor::decode(&text, &shape(Some("{}"))).expect_err("another query");
        assert!(other.contains("another query"), "{other}");
        for bad in ["", "!!", "e30", &"a".repeat(MAX_CURSOR_LEN + 1)] {
            assert!(Cursor::decode(bad, &shape(None)).is_err(), "{bad}");
        }
    }
}
