//! What was sent and answered, for the summary: attempts sent per route, answers per
//! status (or how an attempt got none), and the attempts that were retries — the same
//! figures the server's own books show (`/_sim/stats`).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    pub(crate) requests: BTreeMap<String, u64>,
    pub(crate) http_status: BTreeMap<String, u64>,
    pub(crate) retries: u64,
}

#[derive(Default)]
pub(crate) struct StatsBook(Mutex<Stats>);

impl StatsBook {
    /// An attempt about to be sent; `retry` when it is not the request's first.
    pub(crate) fn request(&self, route: String, retry: bool) {
        let mut s = super::lock(&self.0);
        *s.requests.entry(route).or_default() += 1;
        s.retries += u64::from(retry);
    }
    /// An answer's status, or how an attempt got none (`dropped`, `timeout`).
    pub(crate) fn answer(&self, status: &str) {
        *super::lock(&self.0).http_status.entry(status.to_string()).or_default() += 1;
    }
    pub(crate) fn snapshot(&self) -> Stats {
        super::lock(&self.0).clone()
    }
}
