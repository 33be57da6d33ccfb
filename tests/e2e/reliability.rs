//! Faults, interrupts, kills, retries and persistence.

use crate::support::*;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

/// A plan that must find every row in sync, skipped, or to update (exit 0).
fn plan_counts(sim: &Sim, d: &Path, desired: &Path) -> serde_json::Value {
    let r = against(sim, d, &["plan", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    summary(d, "plan")["counts"].clone()
}

#[test]
fn converges_under_the_fault_mix_and_a_rerun_writes_nothing() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 250, 0.3, 0.05, 11);
    let sim = Sim::start(
        &fx,
        &[
            "--fail-rate",
            "0.15",
            "--lock-rate",
            "0.05",
            "--drop-rate",
            "0.05",
            "--retry-after",
            "0",
            "--rate-limit",
            "400",
            "--seed",
            "5",
        ],
    );
    let mut c = job(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_RETRIES", "12").env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout.lines().last().unwrap_or(""), r.stderr);
    let s = summary(d.path(), "apply");
    assert!(s["retries"].as_u64().unwrap() > 50, "faults were met: {}", s["retries"]);
    assert!(s["http_status"]["dropped"].as_u64().unwrap_or(0) > 0);
    assert!(s["http_status"]["423"].as_u64().unwrap_or(0) > 0);
    // the fixture and the file are seeded: faults change the way, never the outcome
    assert_eq!(s["counts"]["updated"], 80, "{s}");
    assert_eq!(s["counts"]["skipped_has_dependents"], 3, "{s}");
    assert_eq!(s["counts"]["failed"], 0, "{s}");
    // a person skipped for dependents that this run moved away is written by the next run
    assert_eq!(s["rerun_needed"], true, "{s}");
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Apply: 1 updated, 247 in sync, 2 skipped"), "{}", r.stdout);
    // the simulator now holds the desired state: a plan (faults still on) finds nothing to do
    let counts = plan_counts(&sim, d.path(), &desired);
    assert_eq!(counts["would_update"], 0, "{counts}");
    assert_eq!(counts["failed"], 0, "{counts}");
    // and a rerun sends no PUT
    let st = sim.stats();
    let puts_before: u64 = st["by_route"][PUT_ECBN].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = sim.stats();
    let puts_after: u64 = st["by_route"][PUT_ECBN].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(puts_before, puts_after);
}

#[test]
fn a_row_that_exhausts_its_retries_fails_and_the_others_complete() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let f = write(d.path(), "d.csv", &format!("person,selected\n{},LOCATION_ECBN\n", id_of("ben.okafor@example.com")));
    assert_eq!(sim.post("/_sim/faults", serde_json::json!({"fail_rate": 1.0})), 200);
    let mut c = job(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_RETRIES", "2").env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
    let r = run(&mut c);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = rows(d.path(), "apply");
    assert_eq!(rows[0]["action"], "failed");
    assert_eq!(rows[0]["attempts"], "3");
    assert!(["500", "502", "503", "504"].contains(&rows[0]["http_status"].as_str()), "{:?}", rows[0]);
    assert!(rows[0]["message"].contains("Simulated server error"), "{:?}", rows[0]);
}

#[test]
fn an_outage_stops_the_run_with_exit_1() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 200, 0.1, 0.0, 2);
    let sim = Sim::start(&fx, &["--fail-rate", "1"]);
    let mut c = job(&sim, d.path(), &["--concurrency", "32", "apply", desired.to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("looks down"), "{}", r.stderr);
    let s = summary(d.path(), "apply");
    assert!(s["counts"]["not_attempted"].as_u64().unwrap() > 0);
    assert!(sim.stats()["total"].as_u64().unwrap() < 400, "stopped early");
    assert_books_match(&s, &serde_json::json!({}), &sim.stats());
}

#[test]
fn sigint_writes_a_partial_report_and_exits_130() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 300, 0.5, 0.0, 4);
    let sim = Sim::start(&fx, &["--latency-ms", "50"]);
    let mut c = job(&sim, d.path(), &["--concurrency", "4", "apply", desired.to_str().unwrap()]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    wait_until("the run is under way", || sim.stats()["total"].as_u64().unwrap() >= 30);
    unsafe_kill(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(d.path(), "apply");
    assert_eq!(s["exit_code"], 130);
    assert!(s["counts"]["not_attempted"].as_u64().unwrap() > 0, "{s}");
    let rows = rows(d.path(), "apply");
    assert_eq!(rows.len(), 300, "every row is in the report");
    assert_books_match(&s, &serde_json::json!({}), &sim.stats());
}

#[test]
fn a_second_sigint_exits_at_once() {
    use std::io::BufRead;
    // every request takes 30 s: the first signal waits for the one in flight (its grace
    // is 5 s), the second does not wait at all — the run ends before any report
    let sim = Sim::sample(&["--latency-ms", "30000"]);
    let d = tmp();
    let mut c = job(&sim, d.path(), &["plan", sample("desired.csv").to_str().unwrap()]);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    // the run is under way once its first request is (it waits 30 s for the answer)
    wait_until("the first request", || sim.stats()["in_flight"].as_u64().unwrap() >= 1);
    unsafe_kill(child.id(), "INT");
    while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("interrupted") {
        line.clear();
    }
    assert!(line.contains("interrupted"), "the first signal was taken: {line}");
    unsafe_kill(child.id(), "INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(reports(d.path(), "ecbn-plan-", ".json").is_empty(), "exited at once: no summary written yet");
}

#[test]
fn sigkill_mid_write_then_rerun_converges() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 200, 0.9, 0.0, 6);
    let sim = Sim::start(&fx, &["--latency-ms", "20"]);
    let mut c = job(&sim, d.path(), &["--concurrency", "4", "apply", desired.to_str().unwrap()]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    // wait until the write phase has started, then kill without warning
    wait_until("the write phase", || sim.count(PUT_ECBN) >= 20);
    child.kill().unwrap();
    child.wait().unwrap();
    // the report written so far is valid CSV; the rollback file too
    let report = reports(d.path(), "ecbn-apply-", ".csv").pop().unwrap();
    let n = csv::Reader::from_path(&report).unwrap().records().inspect(|r| assert!(r.is_ok(), "{r:?}")).count();
    assert!(n > 0);
    let rb = reports(d.path(), "ecbn-rollback-", ".csv").pop().unwrap();
    assert!(csv::Reader::from_path(&rb).unwrap().records().all(|r| r.is_ok()));
    let r = against(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(plan_counts(&sim, d.path(), &desired)["would_update"], 0);
}

#[test]
fn simulator_state_file_survives_a_restart() {
    let d = tmp();
    let state = d.path().join("state.json");
    let args = ["--state", state.to_str().unwrap()];
    {
        let sim = Sim::sample(&args);
        let r = against(&sim, d.path(), &["apply", sample("desired.csv").to_str().unwrap()]);
        assert_eq!(r.code, 0);
        // the background saver writes the change within its next round
        let saved = || std::fs::read_to_string(&state).is_ok_and(|t| t.contains("LOCATION_ECBN"));
        wait_until("the state file saved", saved);
    } // killed (SIGKILL) here
    let sim = Sim::sample(&args);
    assert_eq!(sim.ecbn_of(&id_of("ben.okafor@example.com")).0, "LOCATION_ECBN");
    let r = against(&sim, d.path(), &["apply", sample("desired.csv").to_str().unwrap()]);
    assert!(r.stdout.contains("Apply: 0 updated"), "{}", r.stdout);
    // reset goes back to the fixture
    assert_eq!(sim.post("/_sim/reset", serde_json::json!({})), 204);
    assert_eq!(sim.ecbn_of(&id_of("ben.okafor@example.com")).0, "DIRECT_LINE");
    assert_eq!(sim.stats()["total"], 0);
}

#[test]
fn dropped_put_responses_never_leave_a_wrong_state() {
    // every second connection is dropped; a dropped PUT was applied or not (seeded)
    let sim = Sim::sample(&["--drop-rate", "0.5", "--seed", "9"]);
    let d = tmp();
    let mut c = job(&sim, d.path(), &["apply", sample("desired.csv").to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_RETRIES", "20").env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sim.stats()["by_route"][PUT_ECBN]["dropped"].as_u64().unwrap_or(0) > 0);
    assert_eq!(sim.post("/_sim/faults", serde_json::json!({"drop_rate": 0})), 200);
    let r = against(&sim, d.path(), &["plan", sample("desired.csv").to_str().unwrap()]);
    assert!(r.stdout.contains("Plan: 0 to update, 12 in sync, 4 skipped"), "{}", r.stdout);
}

/// `kill -SIG pid` without a libc dependency.
fn unsafe_kill(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap().success();
    assert!(ok);
}

#[test]
fn a_failed_email_lookup_fails_the_row_not_the_file() {
    let sim = Sim::sample(&["--fail-rate", "1"]);
    let d = tmp();
    let f = write(
        d.path(),
        "d.csv",
        &format!(
            "person,selected\nben.okafor@example.com,LOCATION_ECBN\n{},DIRECT_LINE\n",
            id_of("ana.silva@example.com")
        ),
    );
    let mut c = job(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    c.env("ECBN_SYNC_MAX_RETRIES", "0");
    let r = run(&mut c);
    assert_eq!(r.code, 3, "an API failure is not a bad file: {}", r.stderr);
    let rows = rows(d.path(), "apply");
    let ben = rows.iter().find(|r| r["line"] == "2").unwrap();
    assert_eq!(ben["action"], "failed");
    assert!(ben["message"].contains("looking up `ben.okafor@example.com` failed"), "{ben:?}");
    // the look-up is the row's one request, and its answer the row's last response
    assert_eq!(ben["attempts"], "1", "{ben:?}");
    assert!(ben["http_status"].starts_with('5'), "{ben:?}");
    assert_eq!(sim.count(PUT_ECBN), 0);
}

#[test]
fn a_file_of_every_kind_converges_under_faults_and_rolls_back_exactly() {
    // the sample mixes people, workspaces and a virtual line, by ID, email and number
    let sim = Sim::sample(&[
        "--fail-rate",
        "0.2",
        "--lock-rate",
        "0.05",
        "--drop-rate",
        "0.1",
        "--retry-after",
        "0",
        "--seed",
        "3",
    ]);
    let d = tmp();
    let settings = |st: Value| -> Vec<(String, String, String)> {
        let members = st["members"].as_array().unwrap().clone();
        members
            .iter()
            .filter(|m| !m["ecbn"].is_null())
            .map(|m| {
                let sel = m["ecbn"]["selected"].as_str().unwrap().to_string();
                let target = if sel == "LOCATION_MEMBER_NUMBER" {
                    m["ecbn"]["locationMemberId"].to_string()
                } else {
                    String::new()
                };
                (m["id"].to_string(), sel, target)
            })
            .collect()
    };
    let original = settings(sim.state());
    let apply = |file: &Path| {
        let mut c = job(&sim, d.path(), &["apply", file.to_str().unwrap()]);
        c.env("ECBN_SYNC_MAX_RETRIES", "20").env("ECBN_SYNC_MAX_BACKOFF_SECS", "1");
        run(&mut c)
    };
    let r = apply(&sample("desired.csv"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Apply: 7 updated, 5 in sync, 4 skipped, 0 invalid, 0 failed."), "{}", r.stdout);
    let by_kind = &summary(d.path(), "apply")["counts_by_kind"];
    assert_eq!(
        (by_kind["workspace"]["updated"].as_u64(), by_kind["virtual_line"]["in_sync"].as_u64()),
        (Some(1), Some(1))
    );
    let s = summary(d.path(), "apply");
    assert!(
        s["retries"].as_u64().unwrap() > 0 && s["http_status"]["dropped"].as_u64().unwrap_or(0) > 0,
        "faults were met: {s}"
    );
    // again: nothing to write
    let puts = |sim: &Sim| {
        ["people/{personId}", "workspaces/{workspaceId}", "virtualLines/{virtualLineId}"]
            .iter()
            .map(|k| sim.count(&PUT_ECBN.replace("people/{personId}", k)))
            .sum::<u64>()
    };
    let before = puts(&sim);
    let r = apply(&sample("desired.csv"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Apply: 0 updated, 12 in sync, 4 skipped"), "{}", r.stdout);
    assert_eq!(puts(&sim), before, "a second apply writes nothing");
    // the rollback restores every member of every kind
    let rb = reports(d.path(), "ecbn-rollback-", ".csv").remove(0);
    let r = apply(&rb);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(settings(sim.state()), original);
}
