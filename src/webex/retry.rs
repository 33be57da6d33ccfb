//! The retry policy as pure functions: which outcome is retried how, and for how long.

use std::time::Duration;

/// What the transport does with one attempt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    Success,
    /// 429: every worker pauses; does not consume `max_retries`.
    Throttled,
    /// 423: this request waits its Retry-After; consumes a retry.
    Locked,
    /// 500/502/503/504, timeouts, connection errors: jittered backoff; consumes a retry.
    Transient,
    /// 401: re-read a rotated token file once, else stop the run.
    Unauthorized,
    /// 403: stop the run unless this method already succeeded in this run.
    Forbidden,
    /// Any other status: the row fails with the API's message.
    Fail,
}

pub(crate) fn classify(status: u16) -> Disposition {
    match status {
        200..=299 => Disposition::Success,
        429 => Disposition::Throttled,
        423 => Disposition::Locked,
        500 | 502 | 503 | 504 => Disposition::Transient,
        401 => Disposition::Unauthorized,
        403 => Disposition::Forbidden,
        _ => Disposition::Fail,
    }
}

/// First backoff step; doubles per retry up to `max`.
pub(crate) const BASE_BACKOFF: Duration = Duration::from_millis(100);

/// Exponential backoff with "equal jitter": a uniform pick in [d/2, d], where
/// d = min(max, BASE·2^(retry-1)). `unit` is a uniform random number in [0, 1).
pub(crate) fn backoff(retry: u32, max: Duration, unit: f64) -> Duration {
    let exp = BASE_BACKOFF.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
    let d = exp.min(max);
    d.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// `Retry-After` in whole seconds (the Webex form), capped; `default` when absent.
pub(crate) fn retry_after(header: Option<&str>, cap: Duration, default: Duration) -> Duration {
    header
        .and_then(|h| h.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(default)
        .min(cap)
}

/// A run-wide retry budget: an outage (at least half of the last `WINDOW` attempts
/// failed) stops the run instead of hammering a dead service for hours.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    window: std::collections::VecDeque<bool>,
    failures: usize,
}

impl Budget {
    pub(crate) const WINDOW: usize = 200;
    /// Below this many attempts the sample is too small to call an outage.
    pub(crate) const MIN_SAMPLE: usize = 100;

    /// Record one attempt; true when the run should stop.
    pub(crate) fn record(&mut self, failed: bool) -> bool {
        self.window.push_back(failed);
        self.failures += failed as usize;
        if self.window.len() > Self::WINDOW && self.window.pop_front() == Some(true) {
            self.failures -= 1;
        }
        self.window.len() >= Self::MIN_SAMPLE && self.failures * 2 >= self.window.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(200), Disposition::Success);
        assert_eq!(classify(204), Disposition::Success);
        assert_eq!(classify(429), Disposition::Throttled);
        assert_eq!(classify(423), Disposition::Locked);
        for s in [500, 502, 503, 504] {
            assert_eq!(classify(s), Disposition::Transient);
        }
        assert_eq!(classify(501), Disposition::Fail);
        assert_eq!(classify(400), Disposition::Fail);
        assert_eq!(classify(404), Disposition::Fail);
        assert_eq!(classify(401), Disposition::Unauthorized);
        assert_eq!(classify(403), Disposition::Forbidden);
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let max = Duration::from_secs(2);
        assert_eq!(backoff(1, max, 0.999_999).as_millis(), 99);
        assert_eq!(backoff(1, max, 0.0).as_millis(), 50);
        assert_eq!(backoff(3, max, 0.0).as_millis(), 200);
        assert_eq!(backoff(30, max, 0.0), Duration::from_secs(1));
        assert!(backoff(30, max, 0.99) <= max);
    }

    #[test]
    fn retry_after_parsing() {
        let cap = Duration::from_secs(60);
        let d = Duration::from_secs(1);
        assert_eq!(retry_after(Some("5"), cap, d), Duration::from_secs(5));
        assert_eq!(retry_after(Some("0"), cap, d), Duration::ZERO);
        assert_eq!(retry_after(Some("9999"), cap, d), cap);
        assert_eq!(retry_after(Some("soon"), cap, d), d);
        assert_eq!(retry_after(None, cap, d), d);
    }

    #[test]
    fn budget_calls_an_outage_only_on_a_real_sample() {
        let mut b = Budget::default();
        for _ in 0..Budget::MIN_SAMPLE - 1 {
            assert!(!b.record(true));
        }
        assert!(b.record(true));
        let mut b = Budget::default();
        for i in 0..1000 {
            // one failure in four: flaky, not an outage
            assert!(!b.record(i % 4 == 0));
        }
        for _ in 0..99 {
            b.record(true);
        }
        assert!(b.record(true), "half of the last 200 failed");
    }
}
