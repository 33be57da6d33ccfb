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
    /// 3xx: never followed; the row fails (the run stops when nothing succeeded yet).
    Redirect,
    /// Any other status: the row fails with the API's message.
    Fail,
}

pub(crate) fn classify(status: u16) -> Disposition {
    match status {
        200..=299 => Disposition::Success,
        429 => Disposition::Throttled,
        423 => Disposition::Locked,
        500 | 502 | 503 | 504 => Disposition::Transient,
        300..=399 => Disposition::Redirect,
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
        for status in [301, 302, 303, 307, 308] {
            assert_eq!(classify(status), Disposition::Redirect, "{status}");
        }
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
}
