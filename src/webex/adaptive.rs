//! Adaptive send rate after 429s, after the AWS SDKs' "adaptive" retry mode: a 429 is
//! the server telling its real rate, so cut to 0.7× the measured send rate, then grow
//! back along a cubic curve while responses succeed, never above `--rate`.
//!
//! governor's quota is fixed once built, so this is a pacing gate in front of it:
//! while throttled, each attempt reserves the next slot at the current rate.

use std::time::{Duration, Instant};

const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
const SMOOTH: f64 = 0.8;
const BUCKET: Duration = Duration::from_millis(500);
/// 429s closer together than this are one signal (they answer one burst).
const SAME_SIGNAL: Duration = Duration::from_millis(500);
const MIN_RATE: f64 = 0.5;

#[derive(Debug)]
pub struct Adaptive {
    max_rate: Option<f64>,
    /// `None` while not throttled: only governor (or nothing) limits.
    rate: Option<f64>,
    last_max: f64,
    last_throttle: Option<Instant>,
    next_slot: Instant,
    measured: f64,
    bucket_start: Instant,
    bucket_count: u32,
}

impl Adaptive {
    pub fn new(max_rate: Option<f64>, now: Instant) -> Adaptive {
        Adaptive {
            max_rate,
            rate: None,
            last_max: 0.0,
            last_throttle: None,
            next_slot: now,
            measured: 0.0,
            bucket_start: now,
            bucket_count: 0,
        }
    }

    /// The current paced rate, if throttled.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Called when an attempt is about to start; returns when it may start.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        self.bucket_count += 1;
        let elapsed = now.saturating_duration_since(self.bucket_start);
        if elapsed >= BUCKET {
            let r = self.bucket_count as f64 / elapsed.as_secs_f64();
            self.measured = SMOOTH * r + (1.0 - SMOOTH) * self.measured;
            self.bucket_start = now;
            self.bucket_count = 0;
        }
        match self.rate {
            None => now,
            Some(r) => {
                let slot = self.next_slot.max(now);
                self.next_slot = slot + Duration::from_secs_f64(1.0 / r);
                slot
            }
        }
    }

    pub fn on_throttle(&mut self, now: Instant) {
        if self
            .last_throttle
            .is_some_and(|t| now.saturating_duration_since(t) < SAME_SIGNAL)
        {
            return;
        }
        let measured = if self.measured > 0.0 { Some(self.measured) } else { None };
        let base = [self.rate, self.max_rate, measured]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
        let base = if base.is_finite() { base } else { 10.0 };
        self.last_max = base;
        self.last_throttle = Some(now);
        self.rate = Some((base * BETA).max(MIN_RATE));
    }

    pub fn on_success(&mut self, now: Instant) {
        let (Some(_), Some(t0)) = (self.rate, self.last_throttle) else {
            return;
        };
        let k = (self.last_max * (1.0 - BETA) / SCALE).cbrt();
        let t = now.saturating_duration_since(t0).as_secs_f64();
        let mut r = SCALE * (t - k).powi(3) + self.last_max;
        if self.measured > 0.0 {
            r = r.min(2.0 * self.measured.max(self.last_max));
        }
        r = r.max(MIN_RATE);
        match self.max_rate {
            Some(max) if r >= max => self.rate = None,
            _ => self.rate = Some(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_then_recover_to_the_cap() {
        let t0 = Instant::now();
        let mut a = Adaptive::new(Some(100.0), t0);
        assert_eq!(a.reserve(t0), t0, "not throttled: no pacing");
        a.on_throttle(t0);
        assert_eq!(a.rate(), Some(70.0));
        a.on_throttle(t0 + Duration::from_millis(100));
        assert_eq!(a.rate(), Some(70.0), "429s of one burst are one signal");
        let s1 = a.reserve(t0);
        let s2 = a.reserve(t0);
        assert!(s2 > s1, "paced while throttled");
        a.on_success(t0 + Duration::from_secs(1));
        let r1 = a.rate().unwrap();
        assert!(r1 > 70.0 && r1 < 100.0, "{r1}");
        a.on_success(t0 + Duration::from_secs(30));
        assert_eq!(a.rate(), None, "back at --rate: governor alone limits");
    }

    #[test]
    fn unlimited_rate_adapts_to_measured() {
        let t0 = Instant::now();
        let mut a = Adaptive::new(None, t0);
        for i in 0..1000 {
            a.reserve(t0 + Duration::from_millis(i));
        }
        a.on_throttle(t0 + Duration::from_millis(1000));
        let r = a.rate().unwrap();
        assert!(r > 500.0 && r < 1000.0, "{r}");
    }
}
