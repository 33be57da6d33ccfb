//! What was sent and answered, for the summary: requests per route (first attempts),
//! answers per status (every attempt), and retries.

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
    pub(crate) fn request(&self, route: String) {
        *super::lock(&self.0).requests.entry(route).or_default() += 1;
    }
    /// An answer's status, or how an attempt got none (`dropped`, `timeout`).
    pub(crate) fn answer(&self, status: &str) {
        *super::lock(&self.0).http_status.entry(status.to_string()).or_default() += 1;
    }
    pub(crate) fn retry(&self) {
        super::lock(&self.0).retries += 1;
    }
    pub(crate) fn snapshot(&self) -> Stats {
        super::lock(&self.0).clone()
    }
}
