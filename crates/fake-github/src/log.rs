//! The request log behind `FakeGitHub::requests()` (own mutex, separate from the data).

use std::sync::{Mutex, MutexGuard};

use crate::types::RecordedRequest;

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    entries: Vec<(u64, RecordedRequest)>,
    next_seq: u64,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner
            .lock()
            .expect("fake GitHub request log mutex poisoned (a panic happened while holding it)")
    }

    /// Appends a request on arrival; returns its sequence number for [`RequestLog::set_status`].
    pub fn record(&self, req: RecordedRequest) -> u64 {
        let mut g = self.lock();
        let seq = g.next_seq;
        g.next_seq += 1;
        g.entries.push((seq, req));
        seq
    }

    /// Fills in the status once answered (no-op if the log was cleared meanwhile).
    pub fn set_status(&self, seq: u64, status: u16) {
        let mut g = self.lock();
        if let Some((_, r)) = g.entries.iter_mut().rev().find(|(s, _)| *s == seq) {
            r.status = status;
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().entries.iter().map(|(_, r)| r.clone()).collect()
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.lock()
            .entries
            .iter()
            .filter(|(_, r)| r.path.starts_with(prefix))
            .count()
    }

    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}
