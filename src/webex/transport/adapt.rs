//! The adaptive layer over the steady pace: after a 429 the server has told its real
//! rate, so cut to 0.7× the measured send rate, then grow back along a cubic curve
//! while answers succeed, never above `--rate` (the AWS SDKs' "adaptive" mode). A pure
//! state machine over instants of tokio's clock; `pace` turns its rate into pacing.

use std::time::Duration;
use tokio::time::Instant;

const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
const SMOOTH: f64 = 0.8;
const BUCKET: Duration = Duration::from_millis(500);
/// 429s closer together than this are one signal (they answer one burst).
const SAME_SIGNAL: Duration = Duration::from_millis(500);
const MIN_RATE: f64 = 0.5;

#[derive(Debug)]
pub(crate) struct Controller {
    max_rate: Option<f64>,
    /// The cut rate after 429s; `None` while not throttled (then `max_rate` paces).
    rate: Option<f64>,
    last_max: f64,
    last_throttle: Option<Instant>,
    /// The send rate, smoothed over buckets of `BUCKET`.
    measured: f64,
    bucket_start: Instant,
    bucket_count: u32,
}

impl Controller {
    /// `max_rate`: `--rate`, `None` for unlimited.
    pub(crate) fn new(max_rate: Option<f64>, now: Instant) -> Controller {
        Controller {
            max_rate,
            rate: None,
            last_max: 0.0,
            last_throttle: None,
            measured: 0.0,
            bucket_start: now,
            bucket_count: 0,
        }
    }

    /// The rate attempts are paced at now; `None` = unlimited.
    pub(crate) fn pacing(&self) -> Option<f64> {
        self.rate.or(self.max_rate)
    }

    /// An attempt is about to be paced: measure the send rate.
    pub(crate) fn on_attempt(&mut self, now: Instant) {
        self.bucket_count += 1;
        let elapsed = now.saturating_duration_since(self.bucket_start);
        if elapsed >= BUCKET {
            let r = f64::from(self.bucket_count) / elapsed.as_secs_f64();
            self.measured = SMOOTH * r + (1.0 - SMOOTH) * self.measured;
            self.bucket_start = now;
            self.bucket_count = 0;
        }
    }

    pub(crate) fn on_throttle(&mut self, now: Instant) {
        if self.last_throttle.is_some_and(|t| now.saturating_duration_since(t) < SAME_SIGNAL) {
            return;
        }
        let measured = (self.measured > 0.0).then_some(self.measured);
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
        let mut a = Controller::new(Some(100.0), t0);
        assert_eq!(a.pacing(), Some(100.0));
        a.on_throttle(t0);
        assert_eq!(a.pacing(), Some(70.0));
        a.on_throttle(t0 + Duration::from_millis(100));
        assert_eq!(a.pacing(), Some(70.0), "429s of one burst are one signal");
        a.on_success(t0 + Duration::from_secs(1));
        let r1 = a.pacing().unwrap();
        assert!(r1 > 70.0 && r1 < 100.0, "{r1}");
        a.on_success(t0 + Duration::from_secs(30));
        assert_eq!(a.pacing(), Some(100.0), "back at --rate");
    }

    #[test]
    fn unlimited_rate_adapts_to_measured() {
        let t0 = Instant::now();
        let mut a = Controller::new(None, t0);
        assert_eq!(a.pacing(), None);
        for i in 0..1000 {
            a.on_attempt(t0 + Duration::from_millis(i));
        }
        a.on_throttle(t0 + Duration::from_millis(1000));
        let r = a.pacing().unwrap();
        assert!(r > 500.0 && r < 1000.0, "{r}");
    }
}
