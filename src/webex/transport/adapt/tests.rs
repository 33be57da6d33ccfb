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

/// Drive `c` for `secs` against `limits` (each from its start second on).
fn drive(mut c: Controller, limits: &[(f64, Limit)], secs: f64) -> Vec<Second> {
    let t0 = Instant::now();
    let epoch = t0.into_std();
    let mut usage = Usage::default();
    let mut seconds = vec![Second::default(); secs.ceil() as usize + 1];
    let (mut t, mut next, mut paused_until) = (0.0f64, 0.0f64, 0.0f64);
    while t < secs {
        t = next.max(paused_until);
        let now = t0 + Duration::from_secs_f64(t);
        let limit = limits.iter().rev().find(|(from, _)| t >= *from).map(|(_, l)| *l).unwrap();
        c.on_attempt(now);
        let s = &mut seconds[t as usize];
        s.sent += 1;
        match usage.admit(&limit, epoch, now.into_std()) {
            Ok(()) => c.on_success(now),
            Err(secs) => {
                s.throttled += 1;
                c.on_throttle(now, Duration::from_secs(secs));
                paused_until = t + secs as f64;
            }
        }
        let rate = c.pacing().unwrap_or(1e6);
        s.rate = rate;
        next = t + 1.0 / rate;
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
