//! Run-wide pacing of attempts through `governor`, on tokio's clock.
//!
//! `--rate R` means burst 1: at most R attempts start in any second and an idle gap
//! banks nothing. A GCRA with burst 1 loses every late timer wake-up (tokio's timer
//! ticks are 1 ms; that cost 10% of the rate at 500/s), so each request is k cells of
//! T/k (T = 1/R, T/k ≈ 2 ms) in a bucket of k+1: a waiter may start up to T/k early,
//! which absorbs a late wake-up without letting more than one request through early.
//! The adaptive layer (`adapt`) sets the rate; a new rate builds a new limiter.

use super::adapt::Controller;
use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::ops::Add;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The early start a request may take: enough for a late timer wake-up.
const TOLERANCE: Duration = Duration::from_millis(2);
/// A new rate within this fraction of the current one keeps the current limiter.
const REBUILD_STEP: f64 = 0.01;

/// An instant of tokio's clock, as governor measures time (so tests can freeze it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TokioInstant(Instant);

impl Add<Nanos> for TokioInstant {
    type Output = TokioInstant;
    fn add(self, d: Nanos) -> TokioInstant {
        TokioInstant(self.0 + Duration::from(d))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        self.0.saturating_duration_since(earlier.0).into()
    }
    fn saturating_sub(&self, d: Nanos) -> Self {
        TokioInstant(self.0.checked_sub(d.into()).unwrap_or(self.0))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;
    fn now(&self) -> TokioInstant {
        TokioInstant(Instant::now())
    }
}

/// A governor limiter at one rate.
struct Limiter {
    rate: f64,
    gcra: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>,
    cells: NonZeroU32,
}

impl Limiter {
    fn new(rate: f64) -> Limiter {
        let t = Duration::from_secs_f64(1.0 / rate);
        let k = (t.as_secs_f64() / TOLERANCE.as_secs_f64()).round().clamp(1.0, 1e6) as u32;
        let unit = (t / k).max(Duration::from_nanos(1));
        let cells = NonZeroU32::new(k).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(k + 1).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(unit).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Limiter { rate, gcra: RateLimiter::direct_with_clock(quota, TokioClock), cells }
    }

    /// Wait until one request conforms, and take it.
    async fn until_ready(&self) {
        loop {
            match self.gcra.check_n(self.cells) {
                Ok(Ok(())) => return,
                Ok(Err(not_until)) => tokio::time::sleep(not_until.wait_time_from(TokioClock.now())).await,
                // k cells always fit a bucket of k+1
                Err(_) => return,
            }
        }
    }
}

pub(crate) struct Pace {
    controller: Mutex<Controller>,
    limiter: Mutex<Option<Arc<Limiter>>>,
    /// Waiters take turns, first come first served: one of them asks the limiter.
    queue: tokio::sync::Mutex<()>,
}

impl Pace {
    /// Paced by `controller` (see `adapt`).
    pub(crate) fn new(controller: Controller) -> Pace {
        Pace { controller: Mutex::new(controller), limiter: Mutex::new(None), queue: tokio::sync::Mutex::new(()) }
    }

    /// Wait for this attempt's turn; false when the run stopped meanwhile.
    pub(crate) async fn until_ready(&self, stop: &CancellationToken) -> bool {
        if self.limiter().is_none() {
            self.sent();
            return !stop.is_cancelled();
        }
        tokio::select! {
            _ = async {
                let _turn = self.queue.lock().await;
                // the rate of now, at the head of the queue: waiters that queued behind a
                // slower rate go at the new one as soon as it is set
                if let Some(limiter) = self.limiter() {
                    limiter.until_ready().await;
                }
                self.sent();
            } => !stop.is_cancelled(),
            _ = stop.cancelled() => false,
        }
    }

    /// An attempt leaves the pacer: the controller measures the send rate.
    fn sent(&self) {
        super::lock(&self.controller).on_attempt(Instant::now());
    }

    /// The limiter for the controller's rate now, built anew when the rate moved.
    fn limiter(&self) -> Option<Arc<Limiter>> {
        let rate = super::lock(&self.controller).pacing();
        let mut current = super::lock(&self.limiter);
        match (rate, current.as_ref()) {
            (None, _) => None,
            (Some(r), Some(l)) if (r - l.rate).abs() <= REBUILD_STEP * l.rate => Some(l.clone()),
            (Some(r), old) => {
                let l = Arc::new(Limiter::new(r));
                if old.is_some() {
                    // requests were flowing: the new limiter starts as if one just went
                    let _ = l.gcra.check_n(l.cells);
                }
                *current = Some(l.clone());
                Some(l)
            }
        }
    }

    /// A 429 to an attempt sent at `sent`, whose pause ends `retry_after` from now; the
    /// new rate.
    pub(crate) fn on_throttle(&self, retry_after: Duration, sent: Instant) -> Option<f64> {
        let mut c = super::lock(&self.controller);
        c.on_throttle(Instant::now(), retry_after, sent);
        c.pacing()
    }

    /// The pacing rate now, and the highest of the run.
    pub(crate) fn rates(&self) -> (Option<f64>, f64) {
        let c = super::lock(&self.controller);
        (c.pacing(), c.max_reached())
    }

    /// An answer that got through, to an attempt sent at `sent`.
    pub(crate) fn on_success(&self, sent: Instant) {
        super::lock(&self.controller).on_success(Instant::now(), sent);
    }
}

#[cfg(test)]
mod tests;
