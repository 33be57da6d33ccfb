//! Fault injection settings of the simulator: what `sim` options and `POST /_sim/faults`
//! set.

use super::hostile::BodyFault;
use super::limiter::{Limit, Shape};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Faults {
    pub fail_rate: f64,
    pub lock_rate: f64,
    pub drop_rate: f64,
    pub latency_ms: u64,
    /// Requests per second (token bucket) or per window, per token; `None` = no limit.
    pub rate_limit: Option<f64>,
    /// `None` = ⌈rate/10⌉.
    pub burst: Option<u32>,
    pub limiter: Shape,
    pub window_secs: u64,
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
            limiter: Shape::TokenBucket,
            window_secs: 60,
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
    #[error("window_secs must be at least 1")]
    Window,
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
        if self.window_secs == 0 {
            return Err(FaultError::Window);
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
                "limiter" => {
                    next.limiter = v
                        .as_str()
                        .and_then(Shape::parse)
                        .ok_or_else(|| wrong("token-bucket, fixed-window or sliding-window"))?
                }
                "window_secs" => next.window_secs = whole()?,
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
            "limiter": self.limiter.as_str(), "window_secs": self.window_secs,
            "retry_after": self.retry_after, "next_link": self.next_link.map(NextLink::as_str),
            "body_fault": self.body_fault.map(BodyFault::as_str), "body_fault_rate": self.body_fault_rate,
            "redirect_rate": self.redirect_rate, "no_retry_after": self.no_retry_after,
            "retry_after_date": self.retry_after_date,
        })
    }

    /// The limit in force, if any.
    pub(crate) fn limit(&self) -> Option<Limit> {
        let rate = self.rate_limit?;
        Some(Limit {
            shape: self.limiter,
            rate,
            burst: self.burst.unwrap_or(((rate / 10.0).ceil() as u32).max(1)),
            window: Duration::from_secs(self.window_secs),
            retry_after: self.retry_after,
        })
    }

    /// The `Retry-After` of a 429 or 423 that says `secs`, if one is sent: seconds, or
    /// the HTTP date that many seconds (rounded up) from `now`.
    pub(crate) fn retry_after_header(&self, secs: u64, now: std::time::SystemTime) -> Option<String> {
        if self.no_retry_after {
            return None;
        }
        if !self.retry_after_date {
            return Some(secs.to_string());
        }
        let since_epoch = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let at = std::time::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs() + 1 + secs);
        Some(httpdate::fmt_http_date(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut f = Faults::default();
        assert_eq!(f.retry_after_header(3, now).as_deref(), Some("3"));
        f.retry_after_date = true;
        let date = f.retry_after_header(3, now).unwrap();
        let at = httpdate::parse_http_date(&date).unwrap();
        assert_eq!(at.duration_since(now).unwrap(), Duration::from_millis(3_500), "{date}: rounded up");
        f.no_retry_after = true;
        assert_eq!(f.retry_after_header(3, now), None);
    }
}
