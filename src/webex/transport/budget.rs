//! The run-wide retry budget: an outage (at least half of the last `WINDOW` attempts
//! failed) stops the run instead of hammering a dead service for hours.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub(crate) struct OutageBudget {
    window: VecDeque<bool>,
    failures: usize,
}

impl OutageBudget {
    pub(crate) const WINDOW: usize = 200;
    /// Below this many attempts the sample is too small to call an outage.
    const MIN_SAMPLE: usize = 100;

    /// Record one attempt; true when the run should stop.
    pub(crate) fn record(&mut self, failed: bool) -> bool {
        self.window.push_back(failed);
        self.failures += usize::from(failed);
        if self.window.len() > Self::WINDOW && self.window.pop_front() == Some(true) {
            self.failures -= 1;
        }
        self.window.len() >= Self::MIN_SAMPLE && self.failures * 2 >= self.window.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_only_on_a_real_sample() {
        let mut b = OutageBudget::default();
        for _ in 0..OutageBudget::MIN_SAMPLE - 1 {
            assert!(!b.record(true));
        }
        assert!(b.record(true));
        let mut b = OutageBudget::default();
        for i in 0..1000 {
            // one failure in four: flaky, not an outage
            assert!(!b.record(i % 4 == 0));
        }
        for _ in 0..99 {
            b.record(true);
        }
        assert!(b.record(true), "half of the last 200 failed");
    }
}
