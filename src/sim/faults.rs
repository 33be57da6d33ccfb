//! Fault injection settings and the per-token rate limiter of the simulator.

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
        }
    }
}

impl Faults {
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, v) in [("fail_rate", self.fail_rate), ("lock_rate", self.lock_rate), ("drop_rate", self.drop_rate)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        if self.fail_rate + self.lock_rate + self.drop_rate > 1.0 {
            return Err("fail_rate + lock_rate + drop_rate must not exceed 1".into());
        }
        if let Some(r) = self.rate_limit
            && !(r.is_finite() && r > 0.0)
        {
            return Err(format!("rate_limit must be positive, got {r}"));
        }
        if self.burst == Some(0) {
            return Err("burst must be at least 1".into());
        }
        Ok(())
    }

    /// Apply a `POST /_sim/faults` body; unknown keys are an error.
    pub(crate) fn update(&mut self, v: &Value) -> Result<(), String> {
        let obj = v.as_object().ok_or("expected a JSON object")?;
        let mut next = self.clone();
        let rate =
            |v: &Value| -> Result<f64, String> { v.as_f64().ok_or_else(|| format!("expected a number, got {v}")) };
        for (k, v) in obj {
            match k.as_str() {
                "fail_rate" => next.fail_rate = rate(v)?,
                "lock_rate" => next.lock_rate = rate(v)?,
                "drop_rate" => next.drop_rate = rate(v)?,
                "latency_ms" => next.latency_ms = v.as_u64().ok_or("latency_ms: expected a whole number")?,
                "rate_limit" => {
                    next.rate_limit = match v {
                        Value::Null => None,
                        v if rate(v)? == 0.0 => None,
                        v => Some(rate(v)?),
                    }
                }
                "burst" => {
                    next.burst = if v.is_null() {
                        None
                    } else {
                        Some(v.as_u64().ok_or("burst: expected a whole number")? as u32)
                    }
                }
                "retry_after" => next.retry_after = v.as_u64().ok_or("retry_after: expected whole seconds")?,
                other => return Err(format!("unknown fault setting `{other}`")),
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
            "retry_after": self.retry_after,
        })
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
        assert_eq!(f.fail_rate, 0.1, "a refused update changes nothing");
    }
}
