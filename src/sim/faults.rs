//! Fault injection settings and the per-token rate limiter of the simulator.

use super::hostile::BodyFault;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Faults {
    pub fail_rate: f64,
    pub lock_rate: f64,
    pub drop_rate: f64,
    pub latency_ms: u64,
    /// Requests per second per token; `None` = no limit.
    pub rate_limit: Option<f64>,
    /// `None` = ⌈rate/10⌉.
    pub burst: Option<u32>,
    /// Seconds, in `Retry-After` of 429 and 423.
    pub retry_after: u64,
    /// What is wrong with the `Link: rel="next"` of paged listings, if anything.
    pub next_link: Option<NextLink>,
    /// Spoil 2xx answers to GETs this way, at `body_fault_rate`.
    pub body_fault: Option<BodyFault>,
    pub body_fault_rate: f64,
    /// Fraction of requests answered `307 Temporary Redirect` to the trap (another local
    /// port), as a misconfigured proxy would, before the API sees them.
    pub redirect_rate: f64,
    /// 429 and 423 without `Retry-After`.
    pub no_retry_after: bool,
    /// `Retry-After` as an HTTP date rather than seconds.
    pub retry_after_date: bool,
}

/// A next-page link as servers have been seen to spoil them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextLink {
    /// The `orgId` of the request is left out (seen on Webex's `/messages`).
    DropOrgId,
    /// The link names another organisation.
    ForeignOrg,
    /// The link points at another host.
    ForeignHost,
}

impl NextLink {
    pub(crate) fn parse(s: &str) -> Option<NextLink> {
        match s {
            "drop-org-id" => Some(NextLink::DropOrgId),
            "foreign-org" => Some(NextLink::ForeignOrg),
            "foreign-host" => Some(NextLink::ForeignHost),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            NextLink::DropOrgId => "drop-org-id",
            NextLink::ForeignOrg => "foreign-org",
            NextLink::ForeignHost => "foreign-host",
        }
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fail_rate: 0.0,
            lock_rate: 0.0,
            drop_rate: 0.0,
            latency_ms: 0,
            rate_limit: None,
            burst: None,
            retry_after: 1,
            next_link: None,
            body_fault: None,
            body_fault_rate: 1.0,
            redirect_rate: 0.0,
            no_retry_after: false,
            retry_after_date: false,
        }
    }
}

/// A fault setting the simulator refuses (a bad `sim` option, or a bad
/// `POST /_sim/faults` body: 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum FaultError {
    #[error("{name} must be between 0 and 1, got {value}")]
    NotAFraction { name: &'static str, value: f64 },
    #[error("fail_rate + lock_rate + drop_rate must not exceed 1")]
    FractionsOverOne,
    #[error("rate_limit must be positive, got {0}")]
    RateLimit(f64),
    #[error("burst must be at least 1")]
    Burst,
    #[error("{name}: expected {expected}, got {value}")]
    WrongType { name: String, expected: &'static str, value: Value },
    #[error("unknown fault setting `{0}`")]
    Unknown(String),
    #[error("expected a JSON object")]
    NotAnObject,
}

impl Faults {
    pub(crate) fn validate(&self) -> Result<(), FaultError> {
        for (name, value) in [
            ("fail_rate", self.fail_rate),
            ("lock_rate", self.lock_rate),
            ("drop_rate", self.drop_rate),
            ("body_fault_rate", self.body_fault_rate),
            ("redirect_rate", self.redirect_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultError::NotAFraction { name, value });
            }
        }
        if self.fail_rate + self.lock_rate + self.drop_rate > 1.0 {
            return Err(FaultError::FractionsOverOne);
        }
        if let Some(r) = self.rate_limit
            && !(r.is_finite() && r > 0.0)
        {
            return Err(FaultError::RateLimit(r));
        }
        if self.burst == Some(0) {
            return Err(FaultError::Burst);
        }
        Ok(())
    }

    /// Apply a `POST /_sim/faults` body; unknown keys are an error.
    pub(crate) fn update(&mut self, v: &Value) -> Result<(), FaultError> {
        let obj = v.as_object().ok_or(FaultError::NotAnObject)?;
        let mut next = self.clone();
        for (k, v) in obj {
            let wrong = |expected| FaultError::WrongType { name: k.clone(), expected, value: v.clone() };
            let number = || v.as_f64().ok_or_else(|| wrong("a number"));
            let whole = || v.as_u64().ok_or_else(|| wrong("a whole number"));
            let flag = || v.as_bool().ok_or_else(|| wrong("true or false"));
            match k.as_str() {
                "fail_rate" => next.fail_rate = number()?,
                "lock_rate" => next.lock_rate = number()?,
                "drop_rate" => next.drop_rate = number()?,
                "latency_ms" => next.latency_ms = whole()?,
                "rate_limit" if v.is_null() => next.rate_limit = None,
                "rate_limit" => next.rate_limit = Some(number()?).filter(|r| *r != 0.0),
                "burst" if v.is_null() => next.burst = None,
                "burst" => next.burst = Some(u32::try_from(whole()?).map_err(|_| wrong("a burst"))?),
                "retry_after" => next.retry_after = whole()?,
                "next_link" if v.is_null() => next.next_link = None,
                "next_link" => {
                    next.next_link = Some(
                        v.as_str()
                            .and_then(NextLink::parse)
                            .ok_or_else(|| wrong("drop-org-id, foreign-org or foreign-host"))?,
                    )
                }
                "body_fault" if v.is_null() => next.body_fault = None,
                "body_fault" => {
                    next.body_fault = Some(
                        v.as_str()
                            .and_then(BodyFault::parse)
                            .ok_or_else(|| wrong("html, truncated, wrong-shape, huge, drip or null"))?,
                    )
                }
                "body_fault_rate" => next.body_fault_rate = number()?,
                "redirect_rate" => next.redirect_rate = number()?,
                "no_retry_after" => next.no_retry_after = flag()?,
                "retry_after_date" => next.retry_after_date = flag()?,
                other => return Err(FaultError::Unknown(other.to_string())),
            }
        }
        next.validate()?;
        *self = next;
        Ok(())
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "fail_rate": self.fail_rate, "lock_rate": self.lock_rate, "drop_rate": self.drop_rate,
            "latency_ms": self.latency_ms, "rate_limit": self.rate_limit, "burst": self.burst,
            "retry_after": self.retry_after, "next_link": self.next_link.map(NextLink::as_str),
            "body_fault": self.body_fault.map(BodyFault::as_str), "body_fault_rate": self.body_fault_rate,
            "redirect_rate": self.redirect_rate, "no_retry_after": self.no_retry_after,
            "retry_after_date": self.retry_after_date,
        })
    }

    /// The `Retry-After` of a 429 or 423, if one is sent: seconds, or the HTTP date that
    /// many seconds (rounded up) from `now`.
    pub(crate) fn retry_after_header(&self, now: std::time::SystemTime) -> Option<String> {
        if self.no_retry_after {
            return None;
        }
        if !self.retry_after_date {
            return Some(self.retry_after.to_string());
        }
        let since_epoch = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let at = std::time::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs() + 1 + self.retry_after);
        Some(httpdate::fmt_http_date(at))
    }
}

/// GCRA: `rate` per second with bursts of `burst`.
#[derive(Debug, Default)]
pub(crate) struct Gcra {
    tat: Option<Instant>,
}

impl Gcra {
    pub(crate) fn allow(&mut self, now: Instant, rate: f64, burst: u32) -> bool {
        let t = Duration::from_secs_f64(1.0 / rate);
        let tat = self.tat.unwrap_or(now).max(now);
        let tolerance = t * burst.saturating_sub(1);
        if tat.saturating_duration_since(now) > tolerance {
            return false;
        }
        self.tat = Some(tat + t);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_rate_and_burst() {
        let t0 = Instant::now();
        let mut g = Gcra::default();
        let allowed = (0..10).filter(|_| g.allow(t0, 10.0, 3)).count();
        assert_eq!(allowed, 3, "burst");
        assert!(g.allow(t0 + Duration::from_millis(101), 10.0, 3));
        // over one second at most rate + burst
        let mut g = Gcra::default();
        let n = (0..1000).filter(|i| g.allow(t0 + Duration::from_millis(*i), 100.0, 10)).count();
        assert!((100..=110).contains(&n), "{n}");
    }

    #[test]
    fn update_faults() {
        let mut f = Faults::default();
        f.update(&json!({"fail_rate": 0.1, "rate_limit": 50, "retry_after": 0})).unwrap();
        assert_eq!(f.rate_limit, Some(50.0));
        f.update(&json!({"rate_limit": null})).unwrap();
        assert_eq!(f.rate_limit, None);
        assert!(f.update(&json!({"fail_rate": 2})).is_err());
        assert!(f.update(&json!({"bogus": 1})).is_err());
        assert!(f.update(&json!({"body_fault": "gibberish"})).is_err());
        assert!(f.update(&json!({"redirect_rate": 1.5})).is_err());
        assert_eq!(f.fail_rate, 0.1, "a refused update changes nothing");
        f.update(&json!({"body_fault": "drip", "body_fault_rate": 0.5, "no_retry_after": true})).unwrap();
        assert_eq!((f.body_fault, f.body_fault_rate, f.no_retry_after), (Some(BodyFault::Drip), 0.5, true));
    }

    #[test]
    fn retry_after_as_seconds_as_a_date_or_not_at_all() {
        let now = std::time::UNIX_EPOCH + Duration::from_millis(1_000_000_500);
        let mut f = Faults { retry_after: 3, ..Faults::default() };
        assert_eq!(f.retry_after_header(now).as_deref(), Some("3"));
        f.retry_after_date = true;
        let date = f.retry_after_header(now).unwrap();
        let at = httpdate::parse_http_date(&date).unwrap();
        assert_eq!(at.duration_since(now).unwrap(), Duration::from_millis(3_500), "{date}: rounded up");
        f.no_retry_after = true;
        assert_eq!(f.retry_after_header(now), None);
    }
}
