//! A hostile world: answers no Webex service gives, which must never be acted on.

use crate::support::*;
use serde_json::json;

/// What the simulator's redirect trap (another local port) received.
fn trapped(sim: &Sim) -> Vec<serde_json::Value> {
    sim.get("/_sim/redirected")["received"].as_array().unwrap().clone()
}

#[test]
fn a_redirect_is_never_followed_and_the_token_goes_nowhere_else() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    let desired = desired.to_str().unwrap();
    assert!(sim.get("/_sim/redirected")["url"].as_str().unwrap().starts_with("http://127.0.0.1:"));

    // every answer a redirect: the run stops at its first answer (sent alone), exit 1
    assert_eq!(sim.post("/_sim/faults", json!({"redirect_rate": 1.0})), 200);
    let r = against(&sim, d.path(), &["plan", desired]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("redirect refused: 307") && r.stderr.contains("check base_url"), "{}", r.stderr);
    assert_eq!(sim.stats()["total"], 1, "nothing after the first answer");
    assert_eq!(trapped(&sim), Vec::<serde_json::Value>::new(), "the redirect target never heard from us");

    // some answers redirected once the run is going: each such row fails, saying so, and
    // is not retried; the run goes on for the others; nothing is sent to the trap
    assert_eq!(sim.post("/_sim/faults", json!({"redirect_rate": 0.25})), 200);
    let before = sim.stats();
    let r = against(&sim, d.path(), &["apply", desired]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = rows(d.path(), "apply");
    let failed: Vec<_> = rows.iter().filter(|r| r["action"] == "failed").collect();
    assert!(!failed.is_empty() && failed.len() < rows.len(), "{rows:?}");
    for row in &failed {
        // the row's own request, or a look-up it needed (an email, a phone number)
        assert!(row["message"].contains("redirect refused: 307 (to http://127.0.0.1:"), "{row:?}");
        if row["message"].starts_with("redirect refused") {
            assert_eq!(row["http_status"], "307");
        }
    }
    assert!(rows.iter().any(|r| r["action"] == "updated" || r["action"] == "in_sync"), "{rows:?}");
    assert_eq!(trapped(&sim), Vec::<serde_json::Value>::new());
    let s = summary(d.path(), "apply");
    assert_eq!(s["retries"], 0, "a redirect is not retried");
    assert_books_match(&s, &before, &sim.stats());

    // the trap does record what reaches it (so the checks above can fail)
    let http = reqwest::blocking::Client::new();
    let trap = sim.get("/_sim/redirected")["url"].as_str().unwrap().to_string();
    http.get(format!("{trap}/v1/people")).bearer_auth("admin-token").send().unwrap();
    assert_eq!(trapped(&sim), [json!({"method": "GET", "path": "/v1/people", "authorization": true})]);
}

#[test]
fn unreadable_answers_fail_their_rows_and_nothing_is_written() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    let before = sim.state();
    for (fault, says) in [
        ("html", "(text/html; charset=utf-8"),
        ("truncated", "EOF while parsing"),
        ("wrong-shape", "invalid type"),
        ("huge", "larger than max_response_bytes (16777216 bytes), not read past it"),
    ] {
        assert_eq!(sim.post("/_sim/faults", json!({"body_fault": fault})), 200);
        let r = against(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
        assert_eq!(r.code, 3, "{fault}: {}", r.stderr);
        let rows = rows(d.path(), "apply");
        assert_eq!(rows.len(), 16);
        for row in &rows {
            assert_eq!(row["action"], "failed", "{fault}: {row:?}");
            // the row's own GET, or a look-up it needed (an email, a phone number)
            assert!(row["message"].contains("unreadable answer: "), "{fault}: {row:?}");
            assert!(row["message"].contains(says), "{fault}: {row:?}");
        }
        assert_eq!(sim.count(PUT_ECBN), 0, "{fault}: nothing written on the strength of it");
        assert_eq!(sim.state(), before);
    }
    // a cap the sample's answers fit in is not hit; a smaller one is, like `huge`
    assert_eq!(sim.post("/_sim/faults", json!({"body_fault": null})), 200);
    let r = against(&sim, d.path(), &["--max-response-bytes", "100", "plan", desired.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("larger than max_response_bytes (100 bytes)"), "{}", r.stdout);
}

#[test]
fn some_unreadable_answers_among_faults_and_html_errors_then_convergence() {
    let sim = Sim::sample(&["--seed", "7"]);
    let d = tmp();
    let desired = sample("desired.csv");
    let faults = json!({"body_fault": "html", "body_fault_rate": 0.3, "fail_rate": 0.3, "retry_after": 0});
    assert_eq!(sim.post("/_sim/faults", faults), 200);
    let mut c = job(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
    let r = run(&mut c);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = rows(d.path(), "apply");
    let unreadable = rows.iter().filter(|r| r["message"].contains("unreadable answer: ")).count();
    assert!(unreadable > 0 && rows.iter().any(|r| r["action"] == "updated"), "{rows:?}");
    let s = summary(d.path(), "apply");
    assert!(s["retries"].as_u64().unwrap() > 0, "5xx with HTML bodies are retried like any 5xx: {s}");
    // the service heals; the next run finishes the work
    assert_eq!(sim.post("/_sim/faults", json!({"body_fault": null, "fail_rate": 0})), 200);
    let r = against(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = against(&sim, d.path(), &["plan", desired.to_str().unwrap()]);
    assert!(r.stdout.contains("Plan: 0 to update"), "{}", r.stdout);
}

#[test]
fn an_unreadable_listing_stops_the_run() {
    let sim = Sim::sample(&["--body-fault", "wrong-shape"]);
    let d = tmp();
    let r = against(&sim, d.path(), &["export", "--all", "--out", "all.csv"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("a listing's answer cannot be trusted") && r.stderr.contains("/people"), "{}", r.stderr);
    assert!(!d.path().join("all.csv").exists(), "no export from a listing that cannot be read");
}

#[test]
fn a_dripping_body_is_cut_off_by_the_whole_answer_deadline() {
    let sim = Sim::sample(&["--body-fault", "drip"]);
    let d = tmp();
    let ana = id_of("ana.silva@example.com");
    let f = write(d.path(), "d.csv", &format!("person,selected\n{ana},DIRECT_LINE\n"));
    let mut c = job(&sim, d.path(), &["--timeout-secs", "1", "--max-retries", "1", "plan", f.to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
    let r = run(&mut c);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = rows(d.path(), "plan");
    assert_eq!(rows[0]["action"], "failed");
    assert!(rows[0]["message"].contains("timeout"), "{:?}", rows[0]);
    assert_eq!(rows[0]["attempts"], "2", "cut off, then retried once");
    assert_eq!(summary(d.path(), "plan")["http_status"]["timeout"], 2);
}

#[test]
fn throttles_without_retry_after_or_with_a_date_are_honoured() {
    for flag in ["--no-retry-after", "--retry-after-date"] {
        let sim = Sim::sample(&["--rate-limit", "20", "--burst", "1", "--retry-after", "0", flag]);
        let d = tmp();
        let mut c = job(&sim, d.path(), &["--concurrency", "8", "apply", sample("desired.csv").to_str().unwrap()]);
        // the 5 s default pause, capped
        c.env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
        let r = run(&mut c);
        assert_eq!(r.code, 0, "{flag}: {}", r.stderr);
        let s = summary(d.path(), "apply");
        assert!(s["http_status"]["429"].as_u64().unwrap() > 0, "{flag}: {s}");
        assert_books_match(&s, &json!({}), &sim.stats());
        assert_eq!(sim.ecbn_of(&id_of("ben.okafor@example.com")).0, "LOCATION_ECBN");
    }
}
