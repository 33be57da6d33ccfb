//! The retry policy as pure functions: which outcome is retried how, and for how long.

use std::time::{Duration, SystemTime};

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

/// `Retry-After` as seconds (the Webex form) or as an HTTP date, read at `now`; below 0
/// counts as 0, above `cap` as `cap`; `default` (capped too) when absent or unreadable.
pub(crate) fn retry_after(header: Option<&str>, cap: Duration, default: Duration, now: SystemTime) -> Duration {
    let h = header.map(str::trim).unwrap_or("");
    let wait = match h.parse::<f64>() {
        Ok(s) if s.is_nan() => default,
        Ok(s) => Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(cap),
        Err(_) => match httpdate::parse_http_date(h) {
            Ok(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
            Err(_) => default,
        },
    };
    wait.min(cap)
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
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_946_400); // Sun, 29 Nov 2026 10:00:00 GMT
        assert_eq!(retry_after(Some("5"), cap, d, now), Duration::from_secs(5));
        assert_eq!(retry_after(Some("0"), cap, d, now), Duration::ZERO);
        assert_eq!(retry_after(Some("-3"), cap, d, now), Duration::ZERO, "below 0 counts as 0");
        assert_eq!(retry_after(Some("9999"), cap, d, now), cap);
        assert_eq!(retry_after(Some("1e300"), cap, d, now), cap);
        assert_eq!(retry_after(Some("soon"), cap, d, now), d);
        assert_eq!(retry_after(None, cap, d, now), d);
        // an HTTP date: the time until then, 0 when past, capped
        assert_eq!(retry_after(Some("Sun, 29 Nov 2026 10:00:07 GMT"), cap, d, now), Duration::from_secs(7));
        assert_eq!(retry_after(Some("Sun, 29 Nov 2026 09:59:00 GMT"), cap, d, now), Duration::ZERO);
        assert_eq!(retry_after(Some("Mon, 30 Nov 2026 10:00:00 GMT"), cap, d, now), cap);
        // a default above the cap is capped too
        assert_eq!(retry_after(None, Duration::from_secs(2), Duration::from_secs(5), now), Duration::from_secs(2));
    }
}
