//! How many requests are on the wire at once. Pinned (`concurrency = N`), or following
//! the pacing rate at the observed latency: in flight = rate × latency × `GAIN` — TCP
//! BBR's congestion window, twice the bandwidth-delay product (the pacing rate is the
//! bottleneck bandwidth we already know; the latency is measured). The gain is the
//! headroom for the slow tail: answers that take 8× as long tie up slots that the
//! others need. Netflix's Vegas and Gradient limiters find a limit from latency alone,
//! for servers that say nothing; Webex says 429, and the pacing rate carries that, so
//! only its product with the latency is needed here. Between 1 and `max_concurrency`;
//! unlimited (`--rate 0`, no 429 yet) is `max_concurrency`.

use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// In flight = rate × latency × this (BBR's cwnd gain).
const GAIN: f64 = 2.0;
/// A few more than the product, so a low rate with fast answers never starves.
const EXTRA: usize = 2;
/// The latency estimate moves this far towards each new answer's time (an EWMA).
const SMOOTH: f64 = 0.1;
/// The limit before any latency was measured (the old fixed default).
const FIRST_LIMIT: usize = 16;

pub(crate) struct Flight {
    pinned: Option<usize>,
    max: usize,
    state: Mutex<State>,
    freed: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct State {
    on_wire: usize,
    most: usize,
    limit: usize,
    /// Mean answer time (seconds), smoothed; `None` before the first answer.
    latency: Option<f64>,
}

/// A slot on the wire; given back when dropped.
pub(crate) struct Slot<'a>(&'a Flight);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        super::lock(&self.0.state).on_wire -= 1;
        self.0.freed.notify_one();
    }
}

impl Flight {
    /// `pinned`: `concurrency = N`; else at most `max` following the rate.
    pub(crate) fn new(pinned: Option<usize>, max: usize) -> Flight {
        let max = max.max(1);
        let limit = pinned.unwrap_or(FIRST_LIMIT.min(max)).max(1);
        Flight { pinned, max, state: Mutex::new(State { limit, ..State::default() }), freed: Default::default() }
    }

    /// The most requests a pool should hold: the pinned number, or `max`.
    pub(crate) fn pool(&self) -> usize {
        self.pinned.unwrap_or(self.max)
    }

    /// Wait for a slot; `None` when the run stopped meanwhile.
    pub(crate) async fn acquire(&self, stop: &CancellationToken) -> Option<Slot<'_>> {
        loop {
            if stop.is_cancelled() {
                return None;
            }
            // listening before looking, so a slot freed in between is not missed
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = super::lock(&self.state);
                if s.on_wire < s.limit {
                    s.on_wire += 1;
                    s.most = s.most.max(s.on_wire);
                    return Some(Slot(self));
                }
            }
            tokio::select! {
                _ = freed => {}
                _ = stop.cancelled() => return None,
            }
        }
    }

    /// An answer came after `took`.
    pub(crate) fn on_answer(&self, took: Duration) {
        let t = took.as_secs_f64();
        let mut s = super::lock(&self.state);
        s.latency = Some(s.latency.map_or(t, |l| l + SMOOTH * (t - l)));
    }

    /// Size the limit for the pacing rate now (`None`: unlimited).
    pub(crate) fn retarget(&self, rate: Option<f64>) {
        if self.pinned.is_some() {
            return;
        }
        let mut s = super::lock(&self.state);
        let Some(latency) = s.latency else { return };
        let before = s.limit;
        s.limit = match rate {
            None => self.max,
            Some(r) => ((r * latency * GAIN).ceil() as usize + EXTRA).clamp(1, self.max),
        };
        if s.limit > before {
            drop(s);
            self.freed.notify_waiters();
        }
    }

    /// The most requests that were on the wire at once, and the limit now.
    pub(crate) fn report(&self) -> (usize, usize) {
        let s = super::lock(&self.state);
        (s.most, s.limit)
    }

    /// The limit now.
    pub(crate) fn limit(&self) -> usize {
        super::lock(&self.state).limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_twice_the_rate_latency_product_within_its_bounds() {
        let f = Flight::new(None, 256);
        assert_eq!(f.limit(), 16, "before any answer");
        f.on_answer(Duration::from_millis(250));
        f.retarget(Some(100.0));
        assert_eq!(f.limit(), 50 + 2, "100/s × 0.25 s × 2, and two");
        f.retarget(None);
        assert_eq!(f.limit(), 256, "unlimited: the most allowed");
        f.on_answer(Duration::from_secs(60));
        f.retarget(Some(100.0));
        assert_eq!(f.limit(), 256, "never above max_concurrency");
        let pinned = Flight::new(Some(4), 256);
        pinned.on_answer(Duration::from_millis(250));
        pinned.retarget(Some(1000.0));
        assert_eq!((pinned.limit(), pinned.pool()), (4, 4), "concurrency = N pins it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_wire_waits_for_a_slot() {
        let f = Flight::new(Some(2), 256);
        let stop = CancellationToken::new();
        let (a, _b) = (f.acquire(&stop).await.unwrap(), f.acquire(&stop).await.unwrap());
        let third = tokio::time::timeout(Duration::from_secs(1), f.acquire(&stop)).await;
        assert!(third.is_err(), "two on the wire: the third waits");
        drop(a);
        assert!(f.acquire(&stop).await.is_some());
        assert_eq!(f.report().0, 2);
        stop.cancel();
        assert!(f.acquire(&stop).await.is_none(), "a stopped run waits no more");
    }
}
