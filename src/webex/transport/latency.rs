//! Answer times, for the summary's `latency_ms` quantiles: a histogram of logarithmic
//! buckets (2 % wide, from 10 µs to 10 min), so a million answers cost a few kilobytes
//! and a quantile is exact to about 1 %.

use std::time::Duration;

/// Each bucket is this much wider than the one before.
const GROWTH: f64 = 1.02;
const FLOOR_SECS: f64 = 1e-5;
const BUCKETS: usize = 900; // 1e-5 × 1.02^900 ≈ 5.7e2 s

#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0 }
    }
}

impl Histogram {
    pub(crate) fn record(&mut self, took: Duration) {
        let secs = took.as_secs_f64().max(FLOOR_SECS);
        let i = ((secs / FLOOR_SECS).ln() / GROWTH.ln()) as usize;
        self.counts[i.min(BUCKETS - 1)] += 1;
        self.total += 1;
    }

    /// The `q` quantile (0..=1) in milliseconds; `None` before any answer.
    pub(crate) fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let i = self.counts.iter().position(|&n| {
            seen += n;
            seen >= rank
        })?;
        // the bucket's geometric middle
        let secs = FLOOR_SECS * GROWTH.powf(i as f64 + 0.5);
        Some((secs * 1000.0 * 10.0).round() / 10.0)
    }
}

/// The summary's `latency_ms`: the median, p90 and p99 of answered attempts.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct LatencyReport {
    pub(crate) p50: Option<f64>,
    pub(crate) p90: Option<f64>,
    pub(crate) p99: Option<f64>,
}

impl LatencyReport {
    pub(crate) fn of(h: &Histogram) -> LatencyReport {
        LatencyReport { p50: h.quantile_ms(0.5), p90: h.quantile_ms(0.9), p99: h.quantile_ms(0.99) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_a_percent() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile_ms(0.5), None);
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile_ms(q).unwrap();
            assert!((got - want).abs() / want < 0.015, "p{q}: {got} vs {want}");
        }
        h.record(Duration::from_secs(3600));
        assert!(h.quantile_ms(1.0).unwrap() > 500_000.0, "beyond the last bucket: in it");
        h.record(Duration::ZERO);
        assert!(h.quantile_ms(0.0).unwrap() < 0.02);
    }
}
