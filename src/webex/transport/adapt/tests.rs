//! The controller in a closed loop with the simulator's own limiters (token bucket,
//! fixed window, sliding window), on simulated time: requests go out one after another
//! at the pacing rate, a 429 pauses for its `Retry-After`. The targets of DESIGN.md
//! ("Automatic rate"), leaving out the first 5 s: at least 0.9 of the limit, at most 1%
//! of the requests answered 429, and after the limit falls, at most 1.1 × the new limit
//! within 10 s.

use super::*;
use crate::sim::limiter::{Limit, Shape, Usage};

fn limit(shape: Shape, rate: f64, burst: u32) -> Limit {
    Limit { shape, rate, burst, window: Duration::from_secs(60), retry_after: 1 }
}

/// Per second of the run: requests sent, answered 429, and the pacing rate at its end.
#[derive(Debug, Default, Clone)]
struct Second {
    sent: u64,
    throttled: u64,
    rate: f64,
}

/// How long the API takes to answer, in the closed loop: `base` seconds spread evenly
/// within ±`jitter`, and one answer in `slow_every` `slow_factor` times as long — the
/// simulator's `--latency-ms`, `--latency-jitter`, `--slow-rate` and `--slow-factor`.
#[derive(Debug, Clone, Copy)]
struct Latency {
    base: f64,
    jitter: f64,
    slow_every: u64,
    slow_factor: f64,
}

impl Latency {
    const NONE: Latency = Latency { base: 0.0, jitter: 0.0, slow_every: 0, slow_factor: 1.0 };

    /// The bench's shape: ±50 %, 1 % of the answers 8× slower.
    fn of(ms: f64) -> Latency {
        Latency { base: ms / 1000.0, jitter: 0.5, slow_every: 100, slow_factor: 8.0 }
    }

    /// The `i`th answer's time (a fixed pseudo-random sequence: runs are reproducible).
    fn of_answer(&self, i: u64) -> f64 {
        let unit = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
        let slow = self.slow_every > 0 && i % self.slow_every == self.slow_every / 2;
        self.base * (1.0 + self.jitter * (2.0 * unit - 1.0)) * if slow { self.slow_factor } else { 1.0 }
    }
}

/// An answer on its way back.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pending {
    at: f64,
    sent: f64,
    /// The `Retry-After` of a 429.
    throttled: Option<u64>,
}

/// Drive `c` for `secs` against `limits` (each from its start second on), answers coming
/// back at once.
fn drive(c: Controller, limits: &[(f64, Limit)], secs: f64) -> Vec<Second> {
    drive_with(c, limits, secs, Latency::NONE, None)
}

/// Drive `c` for `secs` against `limits`: requests go out at the pacing rate (at most
/// `max_in_flight` unanswered, when given), the limiter counts each as it arrives, and
/// its answer comes back `latency` later; a 429 pauses the sending for its
/// `Retry-After` from when it comes back. Seconds are booked by when requests were sent.
fn drive_with(
    mut c: Controller,
    limits: &[(f64, Limit)],
    secs: f64,
    latency: Latency,
    max_in_flight: Option<usize>,
) -> Vec<Second> {
    let t0 = Instant::now();
    let epoch = t0.into_std();
    let at = |t: f64| t0 + Duration::from_secs_f64(t);
    let mut usage = Usage::default();
    let mut seconds = vec![Second::default(); secs.ceil() as usize + 1];
    let mut pending: Vec<Pending> = Vec::new();
    let (mut next, mut paused_until, mut n) = (0.0f64, 0.0f64, 0u64);
    loop {
        let full = max_in_flight.is_some_and(|m| pending.len() >= m);
        let send_at = next.max(paused_until);
        let first = pending.iter().enumerate().min_by(|a, b| a.1.at.total_cmp(&b.1.at)).map(|(i, p)| (i, *p));
        match first {
            Some((i, p)) if full || p.at <= send_at => {
                pending.swap_remove(i);
                match p.throttled {
                    None => c.on_success(at(p.at), at(p.sent)),
                    Some(wait) => {
                        c.on_throttle(at(p.at), Duration::from_secs(wait), at(p.sent));
                        paused_until = paused_until.max(p.at + wait as f64);
                    }
                }
            }
            _ if send_at >= secs => break,
            _ => {
                let t = send_at;
                let limit = limits.iter().rev().find(|(from, _)| t >= *from).map(|(_, l)| *l).unwrap();
                c.on_attempt(at(t));
                let s = &mut seconds[t as usize];
                s.sent += 1;
                let throttled = usage.admit(&limit, epoch, at(t).into_std()).err();
                s.throttled += u64::from(throttled.is_some());
                pending.push(Pending { at: t + latency.of_answer(n), sent: t, throttled });
                n += 1;
                next = t + 1.0 / c.pacing().unwrap_or(1e6);
            }
        }
        let rate = c.pacing().unwrap_or(1e6);
        if let Some(s) = seconds.get_mut((next as usize).min(secs as usize)) {
            s.rate = rate;
        }
    }
    seconds.truncate(secs as usize);
    seconds
}

/// Requests that got through per second, and the share answered 429, over `from..to`.
fn figures(run: &[Second], from: usize, to: usize) -> (f64, f64) {
    let part = &run[from..to.min(run.len())];
    let sent: u64 = part.iter().map(|s| s.sent).sum();
    let throttled: u64 = part.iter().map(|s| s.throttled).sum();
    ((sent - throttled) as f64 / part.len() as f64, throttled as f64 / sent.max(1) as f64)
}

fn assert_targets(name: &str, run: &[Second], limit: f64) {
    let (achieved, share) = figures(run, 5, run.len());
    if std::env::var_os("ECBN_TRACE").is_some() {
        eprintln!("{name}: {:.3} of the limit, {:.2}% 429s\n{}", achieved / limit, share * 100.0, trace(run));
    }
    let total: u64 = run.iter().map(|s| s.sent).sum();
    assert!(total >= 3000, "{name}: a run of at least 3,000 requests ({total})");
    assert!(achieved >= 0.9 * limit, "{name}: {achieved:.1}/s of {limit}/s\n{}", trace(run));
    assert!(share <= 0.01, "{name}: {:.2}% 429s\n{}", share * 100.0, trace(run));
}

fn trace(run: &[Second]) -> String {
    run.iter()
        .enumerate()
        .map(|(i, s)| format!("{i}: {} sent, {} 429, rate {:.1}\n", s.sent, s.throttled, s.rate))
        .collect()
}

fn auto() -> Controller {
    Controller::auto(10.0, None, Instant::now())
}

#[test]
fn auto_finds_and_holds_a_token_bucket() {
    for (rate, burst) in [(20.0f64, 2), (100.0, 10), (20.0, 20), (100.0, 100), (500.0, 500)] {
        let secs = (3500.0 / rate).max(120.0) + 5.0;
        let run = drive(auto(), &[(0.0, limit(Shape::TokenBucket, rate, burst))], secs);
        assert_targets(&format!("token bucket {rate}/s burst {burst}"), &run, rate);
    }
}

#[test]
fn auto_finds_and_holds_windows() {
    for shape in [Shape::FixedWindow, Shape::SlidingWindow] {
        for per_minute in [1200.0f64, 6000.0] {
            let run =
                drive(auto(), &[(0.0, limit(shape, per_minute, 1))], (3500.0 / (per_minute / 60.0)).max(180.0) + 5.0);
            assert_targets(&format!("{shape:?} {per_minute}/min"), &run, per_minute / 60.0);
        }
    }
}

#[test]
fn a_falling_limit_is_followed_within_10_s() {
    let (before, after) = (limit(Shape::TokenBucket, 100.0, 10), limit(Shape::TokenBucket, 50.0, 5));
    let run = drive(auto(), &[(0.0, before), (90.0, after)], 240.0);
    let (achieved, _) = figures(&run, 5, 90);
    assert!(achieved >= 90.0, "before the change: {achieved}\n{}", trace(&run));
    for (i, s) in run.iter().enumerate().skip(100) {
        assert!(s.rate <= 55.0, "second {i}: rate {} over 1.1 × the new limit\n{}", s.rate, trace(&run));
    }
    let (achieved, share) = figures(&run, 90, 240);
    assert!(share <= 0.01, "{:.2}% 429s after the change\n{}", share * 100.0, trace(&run));
    assert!(achieved >= 0.85 * 50.0, "{achieved}\n{}", trace(&run));
}

#[test]
fn a_fixed_rate_above_the_limit_still_reaches_it() {
    let c = Controller::fixed(Some(500.0), Instant::now());
    let run = drive(c, &[(0.0, limit(Shape::TokenBucket, 100.0, 10))], 125.0);
    assert_targets("--rate 500 against 100/s", &run, 100.0);
    assert!(run.iter().all(|s| s.rate <= 500.0));
}

#[test]
fn a_cap_is_never_passed_and_unlimited_stays_unlimited() {
    let run =
        drive(Controller::auto(10.0, Some(40.0), Instant::now()), &[(0.0, limit(Shape::TokenBucket, 1e5, 1))], 30.0);
    assert!(run.iter().all(|s| s.rate <= 40.0));
    assert_eq!(run.last().unwrap().rate, 40.0, "grows to the cap");
    let c = Controller::fixed(None, Instant::now());
    assert_eq!(c.pacing(), None);
}

#[test]
fn unlimited_until_a_429_then_found_from_the_send_rate() {
    // the first 429 arrives before the send rate was ever measured
    let run = drive(Controller::fixed(None, Instant::now()), &[(0.0, limit(Shape::TokenBucket, 100.0, 10))], 125.0);
    assert_targets("--rate 0 against 100/s", &run, 100.0);
}

#[test]
fn auto_reaches_the_limit_at_low_latency_and_nearly_at_250_ms() {
    // DESIGN's targets, a 100/s bucket (bursts 10 and 100), a 45-s run: ≥ 0.9 of the
    // limit after 5 s, ≥ 0.85 over all of it, ≤ 1 % 429s — met with answers of 0 and
    // 50 ms (±50 %, 1 % 8× slower)
    for ms in [0.0, 50.0] {
        for burst in [10, 100] {
            let run =
                drive_with(auto(), &[(0.0, limit(Shape::TokenBucket, 100.0, burst))], 45.0, Latency::of(ms), None);
            let name = format!("{ms} ms, burst {burst}");
            assert_targets(&name, &run, 100.0);
            let (whole, _) = figures(&run, 0, run.len());
            assert!(whole >= 85.0, "{name}: {whole:.1}/s over the whole run\n{}", trace(&run));
        }
    }
    // at 250 ms the target (0.9 and 0.85) is not yet met: 0.895 and 0.84 in this loop;
    // this holds the ground gained (it was 0.43 before the pacer let queued requests go
    // at a new rate and 429s were read by when their requests were sent)
    let run = drive_with(auto(), &[(0.0, limit(Shape::TokenBucket, 100.0, 10))], 45.0, Latency::of(250.0), None);
    let ((after, share), (whole, _)) = (figures(&run, 5, run.len()), figures(&run, 0, run.len()));
    assert!(
        after >= 88.0 && whole >= 82.0 && share <= 0.01,
        "250 ms: {after:.1}, {whole:.1}, {share:.4}\n{}",
        trace(&run)
    );
}

#[test]
fn a_fixed_rate_is_reached_whatever_the_latency() {
    for ms in [0.0, 250.0, 1000.0] {
        let run = drive_with(
            Controller::fixed(Some(100.0), Instant::now()),
            &[(0.0, limit(Shape::TokenBucket, 100.0, 10))],
            45.0,
            Latency::of(ms),
            None,
        );
        let (achieved, share) = figures(&run, 5, run.len());
        assert!(achieved >= 95.0 && share <= 0.01, "{ms} ms: {achieved:.1}/s, {share:.4}\n{}", trace(&run));
    }
}

#[test]
fn auto_is_not_raised_past_what_a_pinned_pool_delivers() {
    // 16 in flight at 250 ms deliver 64/s: pacing far above that would be a rate never used
    let run = drive_with(auto(), &[(0.0, limit(Shape::TokenBucket, 100.0, 10))], 60.0, Latency::of(250.0), Some(16));
    let most = run.iter().map(|s| s.rate).fold(0.0, f64::max);
    // (answers take 125 to 375 ms: the pool delivers up to 128/s in a fast moment)
    assert!(most <= 64.0 * 1.75, "the pacing rate went to {most:.0}/s\n{}", trace(&run));
    let (achieved, share) = figures(&run, 5, run.len());
    assert!(achieved >= 0.9 * 64.0 * 0.75 && share <= 0.01, "{achieved:.1}/s\n{}", trace(&run));
}

#[test]
#[ignore = "a table for tuning: cargo test --lib latency_table -- --ignored --nocapture"]
fn latency_table() {
    let shapes = [
        ("bucket 10", limit(Shape::TokenBucket, 100.0, 10)),
        ("bucket 100", limit(Shape::TokenBucket, 100.0, 100)),
        ("fixed", Limit { window: Duration::from_secs(10), ..limit(Shape::FixedWindow, 1000.0, 1) }),
        ("sliding", Limit { window: Duration::from_secs(10), ..limit(Shape::SlidingWindow, 1000.0, 1) }),
    ];
    for ms in [0.0, 50.0, 250.0, 1000.0] {
        for (name, l) in shapes {
            let run = drive_with(auto(), &[(0.0, l)], 45.0, Latency::of(ms), None);
            let (after, share) = figures(&run, 5, run.len());
            let (whole, _) = figures(&run, 0, run.len());
            let most = run.iter().map(|s| s.rate).fold(0.0, f64::max);
            eprintln!(
                "{ms:>6} ms {name:<10} after 5 s {:.3}  whole {:.3}  429s {:.2}%  max rate {most:.0}",
                after / 100.0,
                whole / 100.0,
                share * 100.0
            );
        }
    }
}
