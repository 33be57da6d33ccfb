//! Run-wide pacing of attempts: `--rate` with burst 1, lowered after 429s.
//!
//! Each attempt reserves the next slot (`max(previous slot + 1/rate, now)`) and sleeps
//! until it. Slots are theoretical times, so a timer that wakes late (tokio's ticks are
//! 1 ms) does not lower the achieved rate, and an idle gap banks nothing (burst 1). This
//! replaces governor: its burst-1 GCRA loses every late wake-up, which cost 10% of the
//! rate at 500 req/s (measured), and its quota cannot change at run time.
//!
//! After a 429 (the AWS SDKs' "adaptive" mode): the server told its real rate, so cut
//! to 0.7× the measured send rate, then grow back along a cubic curve while responses
//! succeed, never above `--rate`.

use std::time::{Duration, Instant};

const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
const SMOOTH: f64 = 0.8;
const BUCKET: Duration = Duration::from_millis(500);
/// 429s closer together than this are one signal (they answer one burst).
const SAME_SIGNAL: Duration = Duration::from_millis(500);
const MIN_RATE: f64 = 0.5;

#[derive(Debug)]
pub(crate) struct Pacer {
    max_rate: Option<f64>,
    /// The cut rate after 429s; `None` while not throttled (then `max_rate` paces).
    rate: Option<f64>,
    last_max: f64,
    last_throttle: Option<Instant>,
    next_slot: Instant,
    measured: f64,
    bucket_start: Instant,
    bucket_count: u32,
}

impl Pacer {
    pub(crate) fn new(max_rate: Option<f64>, now: Instant) -> Pacer {
        Pacer {
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
    pub(crate) fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Called when an attempt is about to start; returns when it may start.
    pub(crate) fn reserve(&mut self, now: Instant) -> Instant {
        self.bucket_count += 1;
        let elapsed = now.saturating_duration_since(self.bucket_start);
        if elapsed >= BUCKET {
            let r = self.bucket_count as f64 / elapsed.as_secs_f64();
            self.measured = SMOOTH * r + (1.0 - SMOOTH) * self.measured;
            self.bucket_start = now;
            self.bucket_count = 0;
        }
        // the adaptive rate is never above --rate
        match self.rate.or(self.max_rate) {
            None => now,
            Some(r) => {
                let slot = self.next_slot.max(now);
                self.next_slot = slot + Duration::from_secs_f64(1.0 / r);
                slot
            }
        }
    }

    pub(crate) fn on_throttle(&mut self, now: Instant) {
        if self.last_throttle.is_some_and(|t| now.saturating_duration_since(t) < SAME_SIGNAL) {
            return;
        }
        let measured = if self.measured > 0.0 { Some(self.measured) } else { None };
        let base = [self.rate, self.max_rate, measured].into_iter().flatten().fold(f64::INFINITY, f64::min);
        let base = if base.is_finite() { base } else { 10.0 };
        self.last_max = base;
        self.last_throttle = Some(now);
        self.rate = Some((base * BETA).max(MIN_RATE));
    }

    pub(crate) fn on_success(&mut self, now: Instant) {
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
        let mut a = Pacer::new(Some(100.0), t0);
        assert_eq!(a.reserve(t0), t0);
        assert_eq!(a.reserve(t0), t0 + Duration::from_millis(10), "--rate 100: 10 ms apart");
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
        assert_eq!(a.rate(), None, "back at --rate");
    }

    #[test]
    fn slots_are_theoretical_and_idle_banks_nothing() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut p = Pacer::new(Some(500.0), t0);
        let s: Vec<_> = (0..4).map(|_| p.reserve(t0)).collect();
        assert_eq!(s, vec![t0, t0 + ms(2), t0 + ms(4), t0 + ms(6)]);
        // a caller that comes late does not push the later slots back
        assert_eq!(p.reserve(t0 + ms(7)), t0 + ms(8));
        // after an idle second: one at once, the next 2 ms later (burst 1)
        let t1 = t0 + ms(1000);
        assert_eq!(p.reserve(t1), t1);
        assert_eq!(p.reserve(t1), t1 + ms(2));
        let mut free = Pacer::new(None, t0);
        assert_eq!(free.reserve(t0), t0, "0 = unlimited");
        assert_eq!(free.reserve(t0), t0);
    }

    #[test]
    fn unlimited_rate_adapts_to_measured() {
        let t0 = Instant::now();
        let mut a = Pacer::new(None, t0);
        for i in 0..1000 {
            a.reserve(t0 + Duration::from_millis(i));
        }
        a.on_throttle(t0 + Duration::from_millis(1000));
        let r = a.rate().unwrap();
        assert!(r > 500.0 && r < 1000.0, "{r}");
    }
}
