//! Fault injection settings of the simulator, defined once: each field is a `sim` option
//! (with its default and help) and a key of `POST /_sim/faults` (its name, in JSON).

use super::hostile::BodyFault;
use super::limiter::{Limit, Shape};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Faults {
    /// Fraction of requests answered 500/502/503/504
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub fail_rate: f64,
    /// Fraction of requests answered 423 + Retry-After
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub lock_rate: f64,
    /// Fraction of connections dropped without an answer (a dropped PUT was applied or not, with equal odds)
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub drop_rate: f64,
    /// Milliseconds every answer takes
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Each answer's time spread evenly within ±F of --latency-ms
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub latency_jitter: f64,
    /// Fraction of answers that take --slow-factor times as long (a slow tail)
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub slow_rate: f64,
    /// How many times longer a slow answer takes
    #[arg(long, default_value_t = 8.0, value_name = "K")]
    pub slow_factor: f64,
    /// Requests per second per token (token bucket), or per window (429 + Retry-After beyond it); 0 = none
    #[arg(long, value_name = "R")]
    pub rate_limit: Option<f64>,
    /// Burst of the token bucket [default: ceil(R/10)]
    #[arg(long, value_name = "B")]
    pub burst: Option<u32>,
    /// The shape of the rate limit
    #[arg(long, value_enum, default_value_t = Shape::TokenBucket, value_name = "SHAPE")]
    pub limiter: Shape,
    /// The window of fixed-window and sliding-window limits, in seconds
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub window_secs: u64,
    /// Retry-After seconds of the token bucket's 429s and of 423s
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub retry_after: u64,
    /// Spoil the next-page links of listings
    #[arg(long, value_enum, value_name = "HOW")]
    pub next_link: Option<NextLink>,
    /// Spoil 2xx answers to GETs (and the token endpoint's): a proxy's HTML page, half the JSON, fields of the wrong type, 20 MiB, or 1 byte/s
    #[arg(long, value_enum, value_name = "KIND")]
    pub body_fault: Option<BodyFault>,
    /// Fraction of 2xx answers spoiled by --body-fault
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub body_fault_rate: f64,
    /// Fraction of requests answered 307 to another local port (a misconfigured proxy), which records what reaches it
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub redirect_rate: f64,
    /// 429 and 423 without Retry-After
    #[arg(long)]
    pub no_retry_after: bool,
    /// Retry-After as an HTTP date
    #[arg(long)]
    pub retry_after_date: bool,
}

/// A next-page link as servers have been seen to spoil them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NextLink {
    /// The `orgId` of the request is left out (seen on Webex's `/messages`).
    DropOrgId,
    /// The link names another organisation.
    ForeignOrg,
    /// The link points at another host.
    ForeignHost,
}

impl Default for Faults {
    /// The options' own defaults: no fault.
    fn default() -> Self {
        use clap::{Args, FromArgMatches};
        let cmd = Faults::augment_args(clap::Command::new("faults").no_binary_name(true));
        let matches = cmd.try_get_matches_from(std::iter::empty::<String>()).expect("every fault has a default");
        Faults::from_arg_matches(&matches).expect("every fault has a default")
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
    #[error("rate_limit must be 0 (none) or positive, got {0}")]
    RateLimit(f64),
    #[error("burst must be at least 1")]
    Burst,
    #[error("window_secs must be at least 1")]
    Window,
    #[error("slow_factor must be at least 1, got {0}")]
    SlowFactor(f64),
    #[error("{0}")]
    WrongType(String),
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
            ("latency_jitter", self.latency_jitter),
            ("slow_rate", self.slow_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultError::NotAFraction { name, value });
            }
        }
        if self.fail_rate + self.lock_rate + self.drop_rate > 1.0 {
            return Err(FaultError::FractionsOverOne);
        }
        if let Some(r) = self.rate_limit
            && !(r.is_finite() && r >= 0.0)
        {
            return Err(FaultError::RateLimit(r));
        }
        if self.burst == Some(0) {
            return Err(FaultError::Burst);
        }
        if self.window_secs == 0 {
            return Err(FaultError::Window);
        }
        if !(self.slow_factor.is_finite() && self.slow_factor >= 1.0) {
            return Err(FaultError::SlowFactor(self.slow_factor));
        }
        Ok(())
    }

    /// Apply a `POST /_sim/faults` body: the keys it names replace those values (`null`
    /// turns an optional fault off; a `rate_limit` of 0 too); unknown keys are an error,
    /// and a refused update changes nothing.
    pub(crate) fn update(&mut self, v: &Value) -> Result<(), FaultError> {
        let given = v.as_object().ok_or(FaultError::NotAnObject)?;
        let mut next = self.clone();
        for (k, v) in given {
            // one key at a time, so a wrong value is named by its key
            let Value::Object(mut all) = next.to_json() else { unreachable!("a struct is an object") };
            if all.insert(k.clone(), v.clone()).is_none() {
                return Err(FaultError::Unknown(k.clone()));
            }
            next =
                serde_json::from_value(Value::Object(all)).map_err(|e| FaultError::WrongType(format!("{k}: {e}")))?;
        }
        next.rate_limit = next.rate_limit.filter(|r| *r != 0.0);
        next.validate()?;
        *self = next;
        Ok(())
    }

    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// How long an answer takes: `latency_ms`, spread by `latency_jitter` (`unit`, uniform
    /// in [0, 1), places it in the spread), `slow_factor` times that when `slow`.
    pub(crate) fn latency(&self, unit: f64, slow: bool) -> Duration {
        let spread = 1.0 + self.latency_jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        let factor = if slow { self.slow_factor } else { 1.0 };
        Duration::from_secs_f64(self.latency_ms as f64 / 1000.0 * spread.max(0.0) * factor)
    }

    /// The limit in force, if any.
    pub(crate) fn limit(&self) -> Option<Limit> {
        let rate = self.rate_limit.filter(|r| *r > 0.0)?;
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
    use serde_json::json;

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
        f.update(&json!({"limiter": "sliding-window", "next_link": "drop-org-id", "rate_limit": 0})).unwrap();
        assert_eq!((f.limiter, f.next_link, f.rate_limit), (Shape::SlidingWindow, Some(NextLink::DropOrgId), None));
        assert_eq!(f.to_json()["limiter"], "sliding-window", "the names the options take");
        let e = f.update(&json!({"latency_ms": "slow"})).unwrap_err().to_string();
        assert!(e.starts_with("latency_ms: invalid type"), "{e}");
    }

    #[test]
    fn latency_spreads_and_has_a_slow_tail() {
        let f = Faults { latency_ms: 200, latency_jitter: 0.5, slow_factor: 8.0, ..Faults::default() };
        assert_eq!(f.latency(0.0, false), Duration::from_millis(100));
        assert_eq!(f.latency(0.5, false), Duration::from_millis(200));
        assert_eq!(f.latency(0.5, true), Duration::from_millis(1600));
        assert!(Faults { slow_factor: 0.5, ..Faults::default() }.validate().is_err());
        assert!(Faults { latency_jitter: 1.5, ..Faults::default() }.validate().is_err());
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
