//! Two run-wide gates every attempt passes: the first request of a run goes alone
//! (a bad token or scope then costs one request), and a 429 pauses every worker.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Lets one request through alone, then everyone.
#[derive(Default)]
pub(crate) struct FirstGate {
    first: tokio::sync::Mutex<bool>,
    open: AtomicBool,
}

/// A request's way through the gate: alone (and it opens the gate when done), or with
/// everyone else.
pub(crate) enum Through<'a> {
    Alone(tokio::sync::MutexGuard<'a, bool>),
    Open,
}

impl FirstGate {
    /// `None` when the run stopped while this request waited for the first one.
    pub(crate) async fn enter(&self, stop: &CancellationToken) -> Option<Through<'_>> {
        if self.open.load(Ordering::Acquire) {
            return Some(Through::Open);
        }
        let done = tokio::select! {
            g = self.first.lock() => g,
            _ = stop.cancelled() => return None,
        };
        Some(if *done { Through::Open } else { Through::Alone(done) })
    }

    /// The first request has its answer: open the gate for everyone.
    pub(crate) fn leave(&self, through: Through<'_>) {
        if let Through::Alone(mut done) = through {
            *done = true;
            self.open.store(true, Ordering::Release);
        }
    }
}

/// The pause every worker keeps after a 429; 429s arriving together share one pause
/// (it ends at the latest end among them; pauses never stack).
#[derive(Default)]
pub(crate) struct Pause {
    until: Mutex<Option<Instant>>,
}

impl Pause {
    pub(crate) fn extend(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut p = super::lock(&self.until);
        if p.is_none_or(|u| u < until) {
            *p = Some(until);
        }
    }

    pub(crate) fn in_force(&self) -> bool {
        super::lock(&self.until).is_some_and(|u| u > Instant::now())
    }

    /// Wait while a pause is in force; false when the run stopped meanwhile.
    pub(crate) async fn wait(&self, stop: &CancellationToken) -> bool {
        loop {
            let until = *super::lock(&self.until);
            match until {
                Some(u) if u > Instant::now() => tokio::select! {
                    _ = tokio::time::sleep_until(u) => {}
                    _ = stop.cancelled() => return false,
                },
                _ => return !stop.is_cancelled(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_share_one_end_and_never_stack() {
        let p = Pause::default();
        let stop = CancellationToken::new();
        let t0 = Instant::now();
        p.extend(Duration::from_secs(2));
        p.extend(Duration::from_secs(1));
        assert!(p.in_force());
        assert!(p.wait(&stop).await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(2), "the latest end, not the sum");
        assert!(!p.in_force());
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_request_goes_alone() {
        let g = FirstGate::default();
        let stop = CancellationToken::new();
        let first = g.enter(&stop).await.unwrap();
        assert!(matches!(first, Through::Alone(_)));
        let second = tokio::time::timeout(Duration::from_secs(5), g.enter(&stop)).await;
        assert!(second.is_err(), "the second waits for the first");
        g.leave(first);
        assert!(matches!(g.enter(&stop).await, Some(Through::Open)));
    }
}
