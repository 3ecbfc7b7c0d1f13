//! Each user's last `/repository/all/stats` answer, as bytes, reused while the database
//! says nothing it depends on changed (`store::events::stats_fingerprint`). Bounded in
//! size; every replica keeps its own, and the fingerprint comes from the shared database,
//! so a stale answer is never served.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;

/// Total size of the answers kept; past it the cache starts over.
const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
pub struct StatsAnswers {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    answers: HashMap<i64, (String, Bytes)>,
    bytes: usize,
}

impl StatsAnswers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer stored for `user_id` under exactly this fingerprint.
    pub fn get(&self, user_id: i64, fingerprint: &str) -> Option<Bytes> {
        let inner = self.lock();
        let (stored, body) = inner.answers.get(&user_id)?;
        (stored == fingerprint).then(|| body.clone())
    }

    pub fn put(&self, user_id: i64, fingerprint: String, body: Bytes) {
        let mut inner = self.lock();
        if inner.bytes + body.len() > MAX_BYTES {
            inner.answers.clear();
            inner.bytes = 0;
        }
        inner.bytes += body.len();
        if let Some((_, old)) = inner.answers.insert(user_id, (fingerprint, body)) {
            inner.bytes -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_match_their_fingerprint_only() {
        let cache = StatsAnswers::default();
        cache.put(1, "a".into(), Bytes::from_static(b"{}"));
        assert_eq!(cache.get(1, "a").as_deref(), Some(&b"{}"[..]));
        assert!(cache.get(1, "b").is_none());
        assert!(cache.get(2, "a").is_none());
        cache.put(1, "b".into(), Bytes::from_static(b"[1]"));
        assert!(cache.get(1, "a").is_none());
        assert_eq!(cache.lock().bytes, 3);
    }
}
