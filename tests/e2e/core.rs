//! The core job: plan, apply, request economy, skip rule, exit codes.

use crate::support::*;

fn by_line(
    rows: &[std::collections::HashMap<String, String>],
    line: usize,
) -> &std::collections::HashMap<String, String> {
    rows.iter().find(|r| r["line"] == line.to_string()).unwrap_or_else(|| panic!("line {line}"))
}

#[test]
fn plan_report_matches_row_by_row_and_writes_nothing() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let r = against(&sim, d.path(), &["plan", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Plan: 7 to update, 5 in sync, 4 skipped, 0 invalid, 0 failed."), "{}", r.stdout);
    // the contract's columns, in its order
    let report = reports(d.path(), "ecbn-plan-", ".csv").pop().unwrap();
    let header = std::fs::read_to_string(report).unwrap().lines().next().unwrap().to_string();
    assert_eq!(
        header,
        "line,member,member_id,kind,action,current_selected,current_location_member_id,desired_selected,\
         desired_location_member_id,dependent_member_count,http_status,attempts,message,current_effective_number,\
         current_effective_quality,desired_effective_number,desired_effective_quality"
    );
    let rows = rows(d.path(), "plan");
    assert_eq!(rows.len(), 16);
    let expect = [
        (2, "skipped_has_dependents", "2 members use this person as ECBN"),
        (3, "would_update", ""),
        (4, "in_sync", ""),
        (5, "in_sync", ""),
        (6, "would_update", ""),
        (7, "would_update", ""),
        (8, "would_update", ""),
        (9, "skipped_has_dependents", "location-default rule"),
        (10, "would_update", ""),
        (11, "skipped_has_dependents", "line 10 of this file"),
        (12, "in_sync", ""),
        (13, "would_update", ""),
        (14, "in_sync", ""),
        (15, "would_update", ""),
        (16, "in_sync", ""),
        (17, "skipped_has_dependents", "1 member uses this workspace as ECBN"),
    ];
    for (line, action, msg) in expect {
        let row = by_line(&rows, line);
        assert_eq!(row["action"], action, "line {line}: {row:?}");
        assert!(row["message"].contains(msg), "line {line}: {row:?}");
    }
    // resolved IDs and targets are reported
    let carla = by_line(&rows, 4);
    assert_eq!(carla["member"], "carla.rossi@example.com");
    assert_eq!(carla["member_id"], id_of("carla.rossi@example.com"));
    assert_eq!(carla["kind"], "person");
    assert_eq!(by_line(&rows, 15)["kind"], "workspace");
    assert_eq!(by_line(&rows, 16)["kind"], "virtual_line", "from the ID's type");
    let s = summary(d.path(), "plan");
    assert_eq!(s["counts_by_kind"]["workspace"]["would_update"], 1);
    assert_eq!(s["counts_by_kind"]["workspace"]["skipped_has_dependents"], 1);
    assert_eq!(s["counts_by_kind"]["virtual_line"]["in_sync"], 1);
    assert_eq!(s["counts_by_kind"]["person"]["would_update"], 6);
    let gus = by_line(&rows, 7);
    assert_eq!(gus["current_selected"], "DIRECT_LINE");
    assert_eq!(gus["desired_selected"], "LOCATION_MEMBER_NUMBER");
    assert!(!gus["desired_location_member_id"].is_empty());
    assert_eq!(gus["current_effective_number"], "+14085550207");
    assert_eq!(gus["current_effective_quality"], "RECOMMENDED");
    // the lobby by phone number: its number; by ID (line 6), never configured: unknown
    assert_eq!(
        (&*gus["desired_effective_number"], &*gus["desired_effective_quality"]),
        ("+14085550190", "RECOMMENDED")
    );
    let femi = by_line(&rows, 6);
    assert_eq!((&*femi["desired_effective_number"], &*femi["desired_effective_quality"]), ("", "unknown"));
    // the break room by phone number: the hunt group's number, NOT_RECOMMENDED, warned about
    let room = by_line(&rows, 15);
    assert_eq!(
        (&*room["desired_effective_number"], &*room["desired_effective_quality"]),
        ("+14085550199", "NOT_RECOMMENDED")
    );
    assert!(room["message"].contains("warning: would have a NOT_RECOMMENDED callback number"), "{room:?}");
    assert!(r.stdout.contains("? Break Room (workspace) would have a NOT_RECOMMENDED callback number (+14085550199)"));
    // Ben to LOCATION_ECBN: the HQ location's main number
    assert_eq!(by_line(&rows, 3)["desired_effective_number"], "+14085550100");
    assert_eq!(
        s["predicted_quality"],
        serde_json::json!({"RECOMMENDED": 10, "NOT_RECOMMENDED": 3, "INVALID": 0, "unknown": 3, "none": 0})
    );
    assert_eq!(by_line(&rows, 2)["dependent_member_count"], "2");
    assert_eq!(by_line(&rows, 11)["dependent_member_count"], "", "in-file rule: no dependencies GET");
    // a row's look-ups count among its attempts: Carla's email, then her ECBN GET; Gus's
    // phone-number target, his GET, his dependencies GET. With one look-up per email,
    // every request of the run is booked on the row it was made for.
    assert_eq!(by_line(&rows, 4)["attempts"], "2");
    assert_eq!(by_line(&rows, 4)["http_status"], "200");
    assert_eq!(by_line(&rows, 7)["attempts"], "3");
    let booked: u64 = rows.iter().map(|r| r["attempts"].parse::<u64>().unwrap()).sum();
    let sent: u64 = s["requests"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(booked, sent, "{}", s["requests"]);
    assert_eq!(sim.count(PUT_ECBN), 0, "plan never writes");
    assert_eq!(s["counts"]["would_update"], 7);
    assert_eq!(s["exit_code"], 0);
    assert_eq!(s["requests"][GET_ECBN], 13);
    // with --detailed-exitcode: 2 when a row would be updated
    let r = against(&sim, d.path(), &["plan", "--detailed-exitcode", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 2);
}

#[test]
fn apply_converges_with_exact_request_economy_and_rerun_writes_nothing() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    let r = against(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Apply: 7 updated, 5 in sync, 4 skipped, 0 invalid, 0 failed."), "{}", r.stdout);
    // members and targets named as a person reads them, from what the run read anyway
    for line in [
        "~ Kofi Mensah <kofi.mensah@example.com> DIRECT_LINE -> LOCATION_ECBN",
        "~ Ben Okafor DIRECT_LINE -> LOCATION_ECBN",
        "~ Gus Berg DIRECT_LINE -> LOCATION_MEMBER_NUMBER(HQ Lobby, workspace)",
        "~ Mo Haddad DIRECT_LINE -> LOCATION_MEMBER_NUMBER(Lena Vogel <lena.vogel@example.com>)",
        "~ Break Room (workspace) LOCATION_ECBN -> LOCATION_MEMBER_NUMBER(Reception, hunt group)",
        "! Lab Phone (workspace) skipped: 1 member uses this workspace as ECBN (dependents rule)",
        "! Ana Silva skipped: 2 members use this person as ECBN (dependents rule)",
    ] {
        assert!(r.stdout.contains(line), "{line}\n{}", r.stdout);
    }
    // N ECBN GETs + D dependency GETs + W PUTs + R resolution requests, nothing else;
    // each kind through its own endpoints
    let st = sim.stats();
    assert_eq!(sim.count(GET_ECBN), 13);
    assert_eq!(sim.count(&GET_ECBN.replace("people/{personId}", "workspaces/{workspaceId}")), 2);
    assert_eq!(sim.count(&GET_ECBN.replace("people/{personId}", "virtualLines/{virtualLineId}")), 1);
    assert_eq!(sim.count(GET_DEPS), 8, "6 updates + 2 skipped by live dependencies");
    assert_eq!(sim.count(&GET_DEPS.replace("people/{personId}", "workspaces/{workspaceId}")), 2);
    assert_eq!(sim.count(PUT_ECBN), 6);
    assert_eq!(sim.count(&PUT_ECBN.replace("people/{personId}", "workspaces/{workspaceId}")), 1);
    assert_eq!(sim.count(GET_PEOPLE), 4, "4 distinct emails, one lookup each");
    assert_eq!(sim.count(GET_AVAIL), 1, "one phone-number target of a person");
    assert_eq!(
        sim.count(&GET_AVAIL.replace("people/{personId}", "workspaces/{workspaceId}")),
        1,
        "and one of a workspace"
    );
    assert_eq!(st["total"], 16 + 10 + 7 + 4 + 2);
    // the summary books the same requests under the same route templates
    let s = summary(d.path(), "apply");
    assert_eq!(s["requests"][PUT_ECBN], 6);
    assert_eq!(s["requests"][GET_DEPS], 8);
    assert_eq!(s["http_status"]["204"], 7);
    // the desired state, read back from the simulator
    assert_eq!(sim.ecbn_of(&id_of("ben.okafor@example.com")).0, "LOCATION_ECBN");
    assert_eq!(sim.ecbn_of(&id_of("kofi.mensah@example.com")).0, "LOCATION_ECBN");
    let (sel, member) = sim.ecbn_of(&id_of("mo.haddad@example.com"));
    assert_eq!((sel.as_str(), member), ("LOCATION_MEMBER_NUMBER", Some(id_of("lena.vogel@example.com"))));
    let (sel, member) = sim.ecbn_of(&id_of("pia.lund@example.com"));
    assert_eq!((sel.as_str(), member), ("LOCATION_MEMBER_NUMBER", Some(id_of("quinn.reyes@example.com"))));
    // people with dependents were never written
    assert_eq!(sim.ecbn_of(&id_of("ana.silva@example.com")).0, "DIRECT_LINE");
    assert_eq!(sim.ecbn_of(&id_of("raj.kumar@example.com")).0, "DIRECT_LINE");
    assert_eq!(sim.ecbn_of(&id_of("lena.vogel@example.com")).0, "DIRECT_LINE");
    // rollback file: previous values, IDs only, with the kind
    let rb = reports(d.path(), "ecbn-rollback-", ".csv");
    assert_eq!(rb.len(), 1);
    let text = std::fs::read_to_string(&rb[0]).unwrap();
    assert!(text.starts_with("member,selected,location_member,kind\n"));
    assert_eq!(text.lines().count(), 8);
    assert!(text.contains(&format!("{},DIRECT_LINE,,person", id_of("ben.okafor@example.com"))));
    assert!(text.contains(",LOCATION_ECBN,,workspace"), "{text}");

    let before = sim.count(PUT_ECBN);
    let r = against(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Apply: 0 updated, 12 in sync, 4 skipped"), "{}", r.stdout);
    assert_eq!(sim.count(PUT_ECBN), before, "a second apply sends no PUT");
    assert_eq!(reports(d.path(), "ecbn-rollback-", ".csv").len(), 1, "no PUT, no rollback file");
}

#[test]
fn ids_in_other_spellings_compare_by_uuid() {
    use base64::Engine as _;
    let sim = Sim::sample(&[]);
    let d = tmp();
    // Dev points at the security desk: write both IDs padded / with a team cluster
    let dev = id_of("dev.patel@example.com");
    let decode =
        |id: &str| String::from_utf8(base64::engine::general_purpose::STANDARD_NO_PAD.decode(id).unwrap()).unwrap();
    let padded = base64::engine::general_purpose::STANDARD.encode(decode(&dev));
    let desk = sim.ecbn_of(&dev).1.unwrap();
    let team = base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(decode(&desk).replace("ciscospark://us/", "ciscospark://urn:TEAM:us-east-2_a/"));
    let f =
        write(d.path(), "d.csv", &format!("person,selected,location_member\n{padded},LOCATION_MEMBER_NUMBER,{team}\n"));
    let r = against(&sim, d.path(), &["plan", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 to update, 1 in sync"), "{}", r.stdout);
}

#[test]
fn bad_file_exits_65_with_zero_requests() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let r = against(&sim, d.path(), &["apply", sample("desired-bad.csv").to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("desired-bad.csv:3: selected: unknown value `SOMETIMES`"), "{}", r.stderr);
    assert!(r.stderr.contains("desired-bad.csv:6: member: `"), "{}", r.stderr);
    assert!(r.stderr.contains("is a HUNT_GROUP ID: hunt groups have no ECBN of their own"), "{}", r.stderr);
    assert!(r.stderr.contains("desired-bad.csv:14:"), "blank line counted: {}", r.stderr);
    assert_eq!(sim.stats()["total"], 0);
    let s = summary(d.path(), "apply");
    assert_eq!(s["exit_code"], 65);
    assert_eq!(s["counts"]["invalid"], 12);
    // the formula-looking cell is escaped in the report
    let text = std::fs::read_to_string(reports(d.path(), "ecbn-apply-", ".csv").pop().unwrap()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    for (name, body) in [("empty.csv", ""), ("header.csv", "person,selected\n"), ("nocol.csv", "person\nx\n")] {
        let f = write(d.path(), name, body);
        let r = against(&sim, d.path(), &["plan", f.to_str().unwrap()]);
        assert_eq!(r.code, 65, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
    }
    let mut bin = b"person,selected\n".to_vec();
    bin.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    let f = d.path().join("garbage.csv");
    std::fs::write(&f, bin).unwrap();
    assert_eq!(against(&sim, d.path(), &["plan", f.to_str().unwrap()]).code, 65);
    assert_eq!(sim.stats()["total"], 0);
}

#[test]
fn skip_invalid_goes_on_and_exits_3() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let f = write(
        d.path(),
        "d.csv",
        &format!(
            "person,selected\n{},LOCATION_ECBN\nnobody,DIRECT_LINE\nghost@example.com,DIRECT_LINE\n",
            id_of("ben.okafor@example.com")
        ),
    );
    let r = against(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 0);
    let r = against(&sim, d.path(), &["apply", "--skip-invalid", f.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("Apply: 1 updated, 0 in sync, 0 skipped, 2 invalid, 0 failed."), "{}", r.stdout);
    let rows = rows(d.path(), "apply");
    assert!(by_line(&rows, 4)["message"].contains("no person with the email `ghost@example.com`"));
}

#[test]
fn token_and_config_errors() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    let mut c = cmd(d.path());
    c.env_remove("WEBEX_TOKEN").args(["--base-url", &sim.base(), "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 78);
    assert!(r.stderr.contains("WEBEX_TOKEN"), "{}", r.stderr);
    let mut c = cmd(d.path());
    c.env_remove("WEBEX_TOKEN").env("MY_TOKEN", "admin-token").args([
        "--token-env",
        "MY_TOKEN",
        "--base-url",
        &sim.base(),
        "plan",
        desired.to_str().unwrap(),
    ]);
    assert_eq!(run(&mut c).code, 0);
    let mut c = cmd(d.path());
    c.args(["--base-url", "http://192.0.2.1/v1", "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 78);
    assert!(r.stderr.contains("plain http"), "{}", r.stderr);
    let mut c = cmd(d.path());
    c.args(["--sandbox", "--base-url", &sim.base(), "plan", desired.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 64);
    let mut c = cmd(d.path());
    c.args(["plan", desired.to_str().unwrap(), "--concurrency", "0"]);
    assert_eq!(run(&mut c).code, 64);
    let cfg = write(d.path(), "config.toml", "[limits]\nrat = 5\n");
    let mut c = cmd(d.path());
    c.args(["plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 78);
    assert!(r.stderr.contains("rat") && r.stderr.contains("config.toml"), "{}", r.stderr);
    std::fs::remove_file(cfg).unwrap();
    // config file < environment < command line
    write(d.path(), "config.toml", "[webex]\nbase_url = \"http://192.0.2.1/v1\"\n");
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_BASE_URL", sim.base()).args(["--rate", "0", "plan", desired.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 0, "environment beats the file");
    assert_eq!(sim.count(PUT_ECBN), 0);
}

#[test]
fn unauthorized_and_forbidden_stop_the_run() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    let mut c = job(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    c.env("WEBEX_TOKEN", "expired");
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    assert_eq!(sim.stats()["total"], 1, "the first request goes alone and stops the run");
    assert_eq!(summary(d.path(), "apply")["counts"]["not_attempted"], 16);
    assert_books_match(&summary(d.path(), "apply"), &serde_json::json!({}), &sim.stats());
    let before = sim.stats();
    // a read-only token: reads succeed, the first PUT is refused, the run stops
    let mut c = job(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    c.env("WEBEX_TOKEN", "read-only-token");
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("403") && r.stderr.contains("telephony_config_write"), "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 1, "only the first PUT was sent");
    let s = summary(d.path(), "apply");
    assert_eq!(s["counts"]["failed"], 1);
    assert_eq!(s["counts"]["not_attempted"], 6);
    assert_eq!(s["exit_code"], 1);
    assert_books_match(&s, &before, &sim.stats());
}

#[test]
fn rate_limit_429s_are_absorbed() {
    let sim = Sim::sample(&["--rate-limit", "10", "--burst", "2", "--retry-after", "0"]);
    let d = tmp();
    let r = against(&sim, d.path(), &["--concurrency", "8", "apply", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let st = sim.stats();
    let throttled: u64 = st["by_route"].as_object().unwrap().values().filter_map(|m| m["429"].as_u64()).sum();
    assert!(throttled > 0, "the limit was hit: {st}");
    assert_eq!(sim.count(PUT_ECBN) - st["by_route"][PUT_ECBN]["429"].as_u64().unwrap_or(0), 6);
    assert_eq!(sim.ecbn_of(&id_of("ben.okafor@example.com")).0, "LOCATION_ECBN");
    let s = summary(d.path(), "apply");
    assert!(s["http_status"]["429"].as_u64().unwrap() > 0);
    assert_eq!(s["requests"][PUT_ECBN], sim.count(PUT_ECBN), "every attempt sent, 429s included");
    assert_eq!(s["http_status"]["429"], throttled);
}

#[test]
fn max_changes_guard_exits_69_without_writing() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let r = against(&sim, d.path(), &["--max-changes", "5", "apply", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 69, "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 0);
    assert_eq!(summary(d.path(), "apply")["exit_code"], 69);
    let r = against(&sim, d.path(), &["--max-changes", "5", "plan", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 69);
    let r = against(&sim, d.path(), &["--max-changes", "7", "apply", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0);
}

#[test]
fn check_is_offline() {
    let d = tmp();
    let mut c = cmd(d.path());
    c.env_remove("WEBEX_TOKEN").args([
        "--base-url",
        "https://127.0.0.1:9/v1",
        "--report-dir",
        "reports",
        "check",
        sample("desired.csv").to_str().unwrap(),
    ]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Check: 16 valid, 0 invalid."));
    assert!(rows(d.path(), "check").iter().all(|r| r["action"] == "valid"));
    let mut c = cmd(d.path());
    c.env_remove("WEBEX_TOKEN").args(["--report-dir", "reports", "check", sample("desired-bad.csv").to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 65);
    assert!(r.stdout.contains("Check: 0 valid, 12 invalid."));
    // the first of two rows for one person is amended once the second is seen
    let rows = rows(d.path(), "check");
    let first = by_line(&rows, 2);
    assert_eq!(first["action"], "invalid");
    assert!(first["message"].contains("the same member appears again on line 10"), "{first:?}");
    assert!(by_line(&rows, 10)["message"].contains("appears again on line 2"));
    assert!(r.stderr.contains("desired-bad.csv:2: member: the same member appears again on line 10"), "{}", r.stderr);
    let s = summary(d.path(), "check");
    assert_eq!(s["counts"]["invalid"], 12);
    assert_eq!(s["counts"]["valid"], 0);
}

#[test]
fn sandbox_apply_twice() {
    let d = tmp();
    let desired = sample("desired.csv");
    let mut c = cmd(d.path());
    c.env_remove("WEBEX_TOKEN").args(["--sandbox", "apply", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Apply: 7 updated"), "{}", r.stdout);
    assert!(d.path().join("ecbn-reports/sandbox-state.json").exists());
    let r = run(&mut c);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Apply: 0 updated"), "{}", r.stdout);
}

#[test]
fn json_logs_and_no_token_anywhere() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let secret = "admin-token";
    let r = against(&sim, d.path(), &["--log-format", "json", "-vv", "apply", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.is_empty());
    for line in r.stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    assert!(!r.stderr.contains(secret) && !r.stdout.contains(secret));
    // errors and file diagnostics are JSON lines too; log_format from config.toml counts
    write(d.path(), "config.toml", "[run]\nlog_format = \"json\"\n");
    let r = against(&sim, d.path(), &["plan", sample("desired-bad.csv").to_str().unwrap()]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.lines().count() >= 12, "{}", r.stderr);
    for line in r.stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    for f in std::fs::read_dir(d.path().join("reports")).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap_or_default();
        assert!(!text.contains(secret));
    }
}

#[test]
fn lock_is_exclusive_per_report_dir() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let held = ecbn_sync::lock::acquire(&d.path().join("reports"), "2026-01-01T00:00:00Z").unwrap();
    let r = against(&sim, d.path(), &["apply", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("pid {}", std::process::id())), "{}", r.stderr);
    assert_eq!(sim.stats()["total"], 0);
    // plan is a read-only audit: it does not need the lock
    assert_eq!(against(&sim, d.path(), &["plan", sample("desired.csv").to_str().unwrap()]).code, 0);
    drop(held);
    assert_eq!(against(&sim, d.path(), &["apply", sample("desired.csv").to_str().unwrap()]).code, 0);
}

#[test]
fn rate_limits_attempts_run_wide() {
    // --rate 20 against a server that allows 20/s (burst 2 for arrival jitter): no 429,
    // and 40 requests cannot finish faster than the limit allows
    let d = tmp();
    let (fx, desired) = generate(d.path(), 40, 0.0, 0.0, 5);
    let sim = Sim::start(&fx, &["--rate-limit", "20", "--burst", "2"]);
    let mut c = cmd(d.path());
    c.args([
        "--base-url",
        &sim.base(),
        "--rate",
        "20",
        "--concurrency",
        "16",
        "--report-dir",
        "reports",
        "plan",
        desired.to_str().unwrap(),
    ]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = sim.stats();
    assert_eq!(st["total"], 40);
    // the server's own books: at most 20 requests began in any second of its clock (one
    // more where a second's edge cuts the pacing's tolerance)
    let busiest = st["per_second"].as_array().unwrap().iter().map(|s| s["requests"].as_u64().unwrap()).max();
    assert!(busiest.unwrap() <= 21, "{st}");
    assert!(st["by_route"][GET_ECBN]["429"].is_null(), "{st}");
}

#[test]
fn progress_bar_on_a_terminal_only() {
    // `script` (util-linux, on every Debian) gives the run a pseudo-terminal, as a
    // person at a shell has
    let d = tmp();
    let line = format!("{BIN} --sandbox --rate 10 plan {}", sample("desired.csv").display());
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(d.path())
        .env_remove("WEBEX_TOKEN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("rows"), "a progress bar on a terminal: {text}");
    assert!(text.contains("Plan: 7 to update"), "{text}");
    // without a terminal: no bar
    let mut c = cmd(d.path());
    c.args(["--sandbox", "plan", sample("desired.csv").to_str().unwrap()]);
    let r = run(&mut c);
    assert!(!r.stderr.contains("rows") && !r.stdout.contains(" rows "), "{}", r.stderr);
}

#[test]
fn the_pool_keeps_its_concurrency_in_flight_and_no_more() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 120, 0.0, 0.0, 9);
    // answers take 100 ms: a pool of 8 has 8 requests at the server at once
    let sim = Sim::start(&fx, &["--latency-ms", "100"]);
    let r = against(&sim, d.path(), &["--concurrency", "8", "plan", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = sim.stats();
    assert_eq!(st["total"], 120);
    let most = st["in_flight_max"].as_u64().unwrap();
    assert!((6..=8).contains(&most), "{most} in flight at most (the server's count)");
    assert_eq!(st["in_flight"], 0);
    // the summary says so too, and how long answers took (at least the 100 ms asked for)
    let s = summary(d.path(), "plan");
    assert_eq!(s["in_flight"]["final"], 8, "pinned: {s}");
    assert!((6..=8).contains(&s["in_flight"]["max"].as_u64().unwrap()), "{s}");
    let p50 = s["latency_ms"]["p50"].as_f64().unwrap();
    assert!(p50 >= 100.0 && s["latency_ms"]["p99"].as_f64().unwrap() >= p50, "{s}");
}

#[test]
fn unpinned_the_requests_in_flight_follow_the_rate_and_the_latency() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 200, 0.0, 0.0, 9);
    // 40/s with answers of 250 ms (±50 %) needs about 10 in flight; one at a time would
    // make 4/s
    let sim = Sim::start(&fx, &["--latency-ms", "250", "--latency-jitter", "0.5"]);
    let mut c = cmd(d.path());
    c.args(["--base-url", &sim.base(), "--rate", "40", "--report-dir", "reports", "plan"]).arg(&desired);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(d.path(), "plan");
    // the limit: twice rate × latency (about 22), not the old fixed 16 nor the ceiling 256
    let limit = s["in_flight"]["final"].as_u64().unwrap();
    assert!((12..=60).contains(&limit), "{s}");
    let served = sim.stats()["in_flight_max"].as_u64().unwrap();
    assert!(served >= 6 && served <= limit, "{served} at the server at most, limit {limit}");
}
