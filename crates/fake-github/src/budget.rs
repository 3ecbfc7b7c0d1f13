//! A primary rate-limit budget (GitHub's `core` resource): limit, remaining, reset.

pub(crate) const AUTH_LIMIT: i64 = 5000;
pub(crate) const ANON_LIMIT: i64 = 60;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub limit: i64,
    pub remaining: i64,
    pub reset: i64,
}

impl Budget {
    pub(crate) fn fresh(limit: i64, now: i64) -> Budget {
        Budget {
            limit,
            remaining: limit,
            reset: now + 3600,
        }
    }

    pub fn used(&self) -> i64 {
        (self.limit - self.remaining).max(0)
    }

    /// Starts a new window once the reset time has passed.
    pub(crate) fn refresh(&mut self, now: i64) {
        if now >= self.reset {
            *self = Budget::fresh(self.limit, now);
        }
    }
}
