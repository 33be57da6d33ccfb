//! The pacer on tokio's frozen clock: time advances only when every task waits, and a
//! timer wakes at the next 1 ms tick, as late as real ones do.

use super::*;

fn fixed(rate: Option<f64>) -> Pace {
    Pace::new(Controller::fixed(rate, Instant::now()))
}

/// `workers` tasks, each sending for `secs` of frozen time with `latency` per request;
/// the instants at which requests started.
async fn run(pace: Arc<Pace>, workers: usize, secs: f64, latency: Duration) -> Vec<Instant> {
    let stop = CancellationToken::new();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (pace, stop, starts) = (pace.clone(), stop.clone(), starts.clone());
            tokio::spawn(async move {
                while pace.until_ready(&stop).await {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    starts.lock().unwrap().push(now);
                    tokio::time::sleep(latency).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let mut v = starts.lock().unwrap().clone();
    v.sort();
    v
}

#[tokio::test(start_paused = true)]
async fn achieves_the_rate_and_never_more() {
    // 150 and 300 per second have periods that are not whole milliseconds: a timer
    // that wakes at the next tick is late every time there
    for rate in [20.0, 100.0, 150.0, 300.0, 500.0] {
        let starts = run(Arc::new(fixed(Some(rate))), 16, 10.0, Duration::from_millis(7)).await;
        let achieved = starts.len() as f64 / (10.0 * rate);
        assert!((0.99..=1.01).contains(&achieved), "rate {rate}: achieved {achieved:.4} of it");
        // and in no one-second window more than the rate and one early request
        let max_in_a_second = starts
            .iter()
            .enumerate()
            .map(|(i, s)| starts[i..].iter().take_while(|t| **t < *s + Duration::from_secs(1)).count())
            .max()
            .unwrap();
        assert!(max_in_a_second as f64 <= rate + 1.0, "rate {rate}: {max_in_a_second} in one second");
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_gap_banks_nothing_beyond_one_early_request() {
    let rate = 100.0;
    let period = Duration::from_millis(10);
    let pace = Arc::new(fixed(Some(rate)));
    run(pace.clone(), 4, 0.5, Duration::ZERO).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // after the gap, one worker sends as fast as the pacer lets it
    let starts = run(pace, 1, 0.2, Duration::ZERO).await;
    assert!(starts.len() >= 19, "{}", starts.len());
    for (i, s) in starts.iter().enumerate() {
        let since = s.duration_since(starts[0]);
        assert!(since + TOLERANCE >= period * i as u32, "request {i} started {since:?} after the first");
    }
}

#[tokio::test(start_paused = true)]
async fn unlimited_until_throttled_then_paced_at_the_cut_rate() {
    let pace = Arc::new(fixed(None));
    let starts = run(pace.clone(), 4, 0.1, Duration::from_millis(1)).await;
    assert!(starts.len() > 300, "unlimited: {}", starts.len());
    let cut = pace.on_throttle(Duration::ZERO, Instant::now()).expect("a rate after a 429");
    let starts = run(pace, 4, 5.0, Duration::from_millis(1)).await;
    let achieved = starts.len() as f64 / 5.0;
    assert!(achieved <= cut * 1.01 + 1.0, "paced at {achieved:.1}/s, cut to {cut:.1}/s");
}

#[tokio::test(start_paused = true)]
async fn a_stopped_run_stops_waiting() {
    let pace = fixed(Some(1.0));
    let stop = CancellationToken::new();
    assert!(pace.until_ready(&stop).await, "the first goes at once");
    stop.cancel();
    assert!(!pace.until_ready(&stop).await);
}
