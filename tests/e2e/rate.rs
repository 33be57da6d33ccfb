//! The rate: `--rate auto` finds a limit it was not told; the simulator's limiter shapes.

use crate::support::*;
use serde_json::json;

#[test]
fn auto_rate_finds_the_limit_and_ends_where_a_fixed_rate_does() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 800, 0.3, 0.05, 31);
    let limited = ["--rate-limit", "150", "--burst", "15", "--retry-after", "1"];
    let auto_sim = Sim::start(&fx, &limited);
    let mut c = cmd(d.path());
    c.args(["--base-url", &auto_sim.base(), "--report-dir", "reports", "--concurrency", "16", "apply"]);
    c.arg(&desired).env("ECBN_SYNC_RATE", "auto");
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(d.path(), "apply");
    let rate = &s["rate"];
    assert_eq!(rate["mode"], "auto", "{s}");
    let (last, max) = (rate["final"].as_f64().unwrap(), rate["max_reached"].as_f64().unwrap());
    assert!(max > 20.0, "it grew from where it started: {rate}");
    assert!(last <= 150.0 * 1.1, "it ends under the limit it found: {rate}");
    let sent: u64 = s["requests"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let throttled = s["http_status"]["429"].as_u64().unwrap_or(0);
    assert!(throttled * 100 <= sent * 3, "{throttled} 429s of {sent} requests");
    assert_books_match(&s, &json!({}), &auto_sim.stats());

    // the same work at a fixed rate ends in the same state
    let fixed_sim = Sim::start(&fx, &limited);
    let mut c = cmd(d.path());
    c.args(["--base-url", &fixed_sim.base(), "--report-dir", "reports", "--rate", "100", "apply"]);
    let r = run(c.arg(&desired));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(summary(d.path(), "apply")["rate"], json!({"mode": "fixed", "final": 100.0, "max_reached": 100.0}));
    assert_eq!(auto_sim.state(), fixed_sim.state());
}

#[test]
fn rate_auto_from_the_file_and_its_bounds() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    write(d.path(), "config.toml", "[limits]\nrate = \"auto\"\nauto_start_rate = 3\nmax_rate = 5\n");
    let mut c = cmd(d.path());
    c.args(["--base-url", &sim.base(), "--report-dir", "reports", "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rate = &summary(d.path(), "plan")["rate"];
    assert_eq!(rate["mode"], "auto");
    assert!(rate["max_reached"].as_f64().unwrap() <= 5.0, "max_rate caps it: {rate}");
    // an unlimited run reports no rate
    let r = against(&sim, d.path(), &["plan", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert_eq!(summary(d.path(), "plan")["rate"], json!({"mode": "fixed", "final": null, "max_reached": null}));
    // bad values: the file's is a configuration error, the command line's a usage error
    write(d.path(), "config.toml", "[limits]\nrate = \"auto\"\nauto_start_rate = 0\n");
    let mut c = cmd(d.path());
    c.args(["--base-url", &sim.base(), "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("auto_start_rate"), "{}", r.stderr);
    let mut c = cmd(d.path());
    c.args(["--base-url", &sim.base(), "--rate", "fastest", "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stderr.contains("neither a whole number of requests per second nor `auto`"), "{}", r.stderr);
}

#[test]
fn the_simulator_limits_by_windows_and_counts_each_second() {
    let sim = Sim::sample(&[]);
    let http = reqwest::blocking::Client::new();
    let get = || {
        let r = http.get(format!("{}/people?max=1", sim.base())).bearer_auth("admin-token").send().unwrap();
        (r.status().as_u16(), r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()))
    };
    let body = json!({"limiter": "fixed-window", "rate_limit": 2, "window_secs": 3600});
    assert_eq!(sim.post("/_sim/faults", body), 200);
    assert_eq!(get().0, 200);
    assert_eq!(get().0, 200);
    let (status, retry_after) = get();
    assert_eq!(status, 429);
    let secs: u64 = retry_after.unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&secs), "the seconds left in the window: {secs}");
    // a sliding window answers with the time until the oldest request leaves it
    let body = json!({"limiter": "sliding-window", "rate_limit": 2, "window_secs": 30});
    assert_eq!(sim.post("/_sim/reset", json!({})), 204);
    assert_eq!(sim.post("/_sim/faults", body), 200);
    let statuses: Vec<u16> = (0..3).map(|_| get().0).collect();
    assert_eq!(statuses, [200, 200, 429]);
    let (_, retry_after) = get();
    assert!((29..=30).contains(&retry_after.unwrap().parse::<u64>().unwrap()));
    let per_second = sim.stats()["per_second"].as_array().unwrap().clone();
    let requests: u64 = per_second.iter().map(|s| s["requests"].as_u64().unwrap()).sum();
    let throttled: u64 = per_second.iter().map(|s| s["429"].as_u64().unwrap()).sum();
    assert_eq!((requests, throttled), (4, 2), "{per_second:?}");
    assert_eq!(per_second[0]["t"], 0);
    // a bad shape is refused
    assert_eq!(sim.post("/_sim/faults", json!({"limiter": "leaky"})), 400);
}
