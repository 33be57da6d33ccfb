//! The simulator's per-token rate limit, in the shapes real services use: a token bucket
//! (GCRA; `rate_limit` per second with bursts of `burst`), a fixed window (`rate_limit`
//! requests per `window_secs` window, windows aligned to the simulator's start), and a
//! sliding window (`rate_limit` requests in any `window_secs`). A refusal says when to
//! come back, as each shape's servers do.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Shape {
    TokenBucket,
    FixedWindow,
    SlidingWindow,
}

/// The limit as configured now (it may change while the simulator runs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    pub(crate) shape: Shape,
    /// Per second (token bucket) or per window.
    pub(crate) rate: f64,
    pub(crate) burst: u32,
    pub(crate) window: Duration,
    /// The `Retry-After` of the token bucket, in seconds.
    pub(crate) retry_after: u64,
}

/// One token's use of its limit.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// GCRA: the theoretical arrival time of the next request.
    tat: Option<Instant>,
    /// Fixed window: its index, and the requests it accepted.
    window: (u64, u32),
    /// Sliding window: when each accepted request arrived, oldest first.
    accepted: VecDeque<Instant>,
}

impl Usage {
    /// Admit a request at `now` (the simulator started at `epoch`), or say in how many
    /// whole seconds to come back.
    pub(crate) fn admit(&mut self, limit: &Limit, epoch: Instant, now: Instant) -> Result<(), u64> {
        match limit.shape {
            Shape::TokenBucket => self.bucket(now, limit.rate, limit.burst).map_err(|()| limit.retry_after),
            Shape::FixedWindow => {
                let per = limit.rate.floor() as u32;
                let since = now.saturating_duration_since(epoch);
                let index = (since.as_nanos() / limit.window.as_nanos().max(1)) as u64;
                if self.window.0 != index {
                    self.window = (index, 0);
                }
                if self.window.1 < per {
                    self.window.1 += 1;
                    return Ok(());
                }
                let ends = limit.window * (index as u32 + 1);
                Err(ceil_secs(ends.saturating_sub(since)))
            }
            Shape::SlidingWindow => {
                while self.accepted.front().is_some_and(|t| now.saturating_duration_since(*t) >= limit.window) {
                    self.accepted.pop_front();
                }
                if (self.accepted.len() as f64) < limit.rate.floor() {
                    self.accepted.push_back(now);
                    return Ok(());
                }
                let oldest = self.accepted.front().copied().unwrap_or(now);
                Err(ceil_secs((oldest + limit.window).saturating_duration_since(now)))
            }
        }
    }

    /// GCRA: `rate` per second with bursts of `burst`.
    fn bucket(&mut self, now: Instant, rate: f64, burst: u32) -> Result<(), ()> {
        let t = Duration::from_secs_f64(1.0 / rate);
        let tat = self.tat.unwrap_or(now).max(now);
        let tolerance = t * burst.saturating_sub(1);
        if tat.saturating_duration_since(now) > tolerance {
            return Err(());
        }
        self.tat = Some(tat + t);
        Ok(())
    }
}

/// Whole seconds, rounded up (at least 1: a client told 0 would come straight back).
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0 || d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(shape: Shape, rate: f64, burst: u32) -> Limit {
        Limit { shape, rate, burst, window: Duration::from_secs(60), retry_after: 1 }
    }

    #[test]
    fn token_bucket_allows_rate_and_burst() {
        let t0 = Instant::now();
        let l = limit(Shape::TokenBucket, 10.0, 3);
        let mut u = Usage::default();
        let allowed = (0..10).filter(|_| u.admit(&l, t0, t0).is_ok()).count();
        assert_eq!(allowed, 3, "burst");
        assert_eq!(u.admit(&l, t0, t0), Err(1), "the bucket's Retry-After");
        assert!(u.admit(&l, t0, t0 + Duration::from_millis(101)).is_ok());
        // over one second at most rate + burst
        let l = limit(Shape::TokenBucket, 100.0, 10);
        let mut u = Usage::default();
        let n = (0..1000).filter(|i| u.admit(&l, t0, t0 + Duration::from_millis(*i)).is_ok()).count();
        assert!((100..=110).contains(&n), "{n}");
    }

    #[test]
    fn fixed_windows_are_aligned_to_the_start_and_say_what_is_left() {
        let t0 = Instant::now();
        let l = limit(Shape::FixedWindow, 3.0, 1);
        let mut u = Usage::default();
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        for s in [10.0, 10.1, 10.2] {
            assert!(u.admit(&l, t0, at(s)).is_ok());
        }
        assert_eq!(u.admit(&l, t0, at(10.3)), Err(50), "49.7 s left, rounded up");
        assert_eq!(u.admit(&l, t0, at(59.9)), Err(1));
        assert!(u.admit(&l, t0, at(60.0)).is_ok(), "a new window");
    }

    #[test]
    fn a_sliding_window_counts_any_window_secs() {
        let t0 = Instant::now();
        let l = limit(Shape::SlidingWindow, 2.0, 1);
        let mut u = Usage::default();
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        assert!(u.admit(&l, t0, at(0.0)).is_ok());
        assert!(u.admit(&l, t0, at(30.0)).is_ok());
        assert_eq!(u.admit(&l, t0, at(45.5)), Err(15), "until the first leaves, rounded up");
        assert!(u.admit(&l, t0, at(60.0)).is_ok(), "the first left");
        assert_eq!(u.admit(&l, t0, at(61.0)), Err(29));
    }
}
