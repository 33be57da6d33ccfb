//! What was sent and answered, for the summary: attempts sent per route, answers per
//! status (or how an attempt got none), and the attempts that were retries — the same
//! figures the server's own books show (`/_sim/stats`).

use super::Rate;
use super::latency::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    pub(crate) requests: BTreeMap<String, u64>,
    pub(crate) http_status: BTreeMap<String, u64>,
    pub(crate) retries: u64,
    pub(crate) rate: RateReport,
    pub(crate) in_flight: FlightReport,
    /// How long answered attempts took.
    pub(crate) latency: Histogram,
}

/// The summary's `in_flight`: the most requests on the wire at once, and the limit the
/// run ended with.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct FlightReport {
    pub(crate) max: usize,
    #[serde(rename = "final")]
    pub(crate) last: usize,
}

/// The summary's `rate`: the pacing at the end and the highest of the run, both `None`
/// for an unlimited run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct RateReport {
    pub(crate) mode: &'static str,
    #[serde(rename = "final")]
    pub(crate) last: Option<f64>,
    pub(crate) max_reached: Option<f64>,
}

impl RateReport {
    /// A run paced this way, before (or without) any request.
    pub(crate) fn unsent(rate: Rate) -> RateReport {
        let mode = if matches!(rate, Rate::Auto { .. }) { "auto" } else { "fixed" };
        RateReport { mode, last: None, max_reached: None }
    }

    /// A run paced this way, at `now` at the end and at most `max`.
    pub(crate) fn of(rate: Rate, now: Option<f64>, max: f64) -> RateReport {
        match rate {
            Rate::Fixed(0) => RateReport::unsent(rate),
            _ => RateReport { last: now, max_reached: Some(max), ..RateReport::unsent(rate) },
        }
    }
}

impl Default for RateReport {
    fn default() -> Self {
        RateReport::unsent(Rate::Fixed(0))
    }
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
    /// How long an answered attempt took.
    pub(crate) fn latency(&self, took: std::time::Duration) {
        super::lock(&self.0).latency.record(took);
    }
    /// An answer's status, or how an attempt got none (`dropped`, `timeout`).
    pub(crate) fn answer(&self, status: &str) {
        *super::lock(&self.0).http_status.entry(status.to_string()).or_default() += 1;
    }
    pub(crate) fn snapshot(&self) -> Stats {
        super::lock(&self.0).clone()
    }
}
