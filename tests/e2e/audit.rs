//! Audits and safe roll-outs: export, --limit, --max-failures, token rotation.

use crate::support::*;
use std::path::Path;

#[test]
fn export_all_round_trips_to_an_all_in_sync_plan() {
    let d = tmp();
    // 800 people, 100 workspaces (and a lobby per site), 100 virtual lines
    let (fx, _) = generate_with(d.path(), 1000, 0.0, 0.05, 3, &["--workspaces", "0.1", "--virtual-lines", "0.1"]);
    let sim = Sim::start(&fx, &[]);
    let r = against(&sim, d.path(), &["export", "--all", "--out", "export.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sim.count(GET_PEOPLE), 8, "⌈800/100⌉ listing pages");
    assert_eq!(sim.count("GET /v1/workspaces"), 2, "104 workspaces in pages of 100");
    assert_eq!(sim.count("GET /v1/telephony/config/virtualLines"), 1);
    let kind_route = |k: &str| GET_ECBN.replace("people/{personId}", k);
    assert_eq!(sim.count(GET_ECBN), 800);
    assert_eq!(sim.count(&kind_route("workspaces/{workspaceId}")), 104);
    assert_eq!(sim.count(&kind_route("virtualLines/{virtualLineId}")), 100);
    // and the four sites' own ECBN: one /locations page, a GET each
    assert_eq!(sim.count("GET /v1/locations"), 1);
    assert_eq!(sim.count("GET /v1/telephony/config/locations/{locationId}/features/emergencyCallbackNumber"), 4);
    assert_eq!(sim.stats()["total"], 8 + 2 + 1 + 1 + 1004 + 4, "the listing pages + one ECBN GET per member");
    let text = std::fs::read_to_string(d.path().join("export.csv")).unwrap();
    assert!(text.starts_with("member,selected,location_member,kind,email,display_name,location_id,current_effective_number,current_effective_quality\n"));
    assert_eq!(text.lines().count(), 1 + 1004 + 4);
    assert!(text.contains(",LOCATION_NUMBER,,location,,Site 0,"), "a location's own row");
    for kind in [",person,", ",workspace,", ",virtual_line,", ",location,"] {
        assert!(text.contains(kind), "{kind}");
    }
    // --kind narrows it
    let r = against(&sim, d.path(), &["export", "--all", "--kind", "workspace,virtual_line", "--out", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1 + 204);
    assert!(!r.stdout.contains(",person,"));
    let s = summary(d.path(), "export");
    assert_eq!(s["mode"], "export");
    assert_eq!(s["exit_code"], 0);
    let r = against(&sim, d.path(), &["plan", "export.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Plan: 0 to update, 1008 in sync, 0 skipped, 0 invalid, 0 failed."), "{}", r.stdout);
    assert_eq!(sim.count(GET_DEPS), 0);
    assert_eq!(sim.count(PUT_ECBN), 0);
}

#[test]
fn export_by_location_and_people_file_and_none() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let st = sim.state();
    let austin = st["locations"][1]["id"].as_str().unwrap().to_string();
    let r = against(&sim, d.path(), &["export", "--all", "--location", &austin, "--out", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1 + 10 + 1 + 1, "ten people, the lab workspace, Austin: {}", r.stdout);
    assert!(r.stdout.lines().skip(1).all(|l| l.contains(&austin)));
    // only the person column is read
    let f = write(
        d.path(),
        "p.csv",
        &format!("Email;whatever\ndina.aziz@example.com;x\n{};\n", id_of("ana.silva@example.com")),
    );
    let r = against(&sim, d.path(), &["export", "--people", f.to_str().unwrap(), "--out", "e.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(d.path().join("e.csv")).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.contains(&format!("{},NONE,", id_of("dina.aziz@example.com"))), "{text}");
    let r = against(&sim, d.path(), &["plan", "e.csv"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("e.csv:2: selected: NONE cannot be set; choose a value"), "{}", r.stderr);
}

/// Ten people without dependents, each asked to move to LOCATION_ECBN.
fn ten_changes(d: &Path) -> std::path::PathBuf {
    let who = [
        "ben.okafor",
        "carla.rossi",
        "femi.adeyemi",
        "gus.berg",
        "ivan.petrov",
        "kofi.mensah",
        "lena.vogel",
        "mo.haddad",
        "nia.ncube",
        "pia.lund",
    ];
    let body: String = who.iter().map(|w| format!("{},LOCATION_ECBN\n", id_of(&format!("{w}@example.com")))).collect();
    write(d, "ten.csv", &format!("person,selected\n{body}"))
}

#[test]
fn limit_writes_k_in_file_order_and_a_second_run_finishes() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let f = ten_changes(d.path());
    let r = against(&sim, d.path(), &["--limit", "3", "apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 3);
    let rows = rows(d.path(), "apply");
    let mut updated: Vec<usize> =
        rows.iter().filter(|r| r["action"] == "updated").map(|r| r["line"].parse().unwrap()).collect();
    updated.sort();
    assert_eq!(updated, vec![2, 3, 4], "file order");
    assert_eq!(rows.iter().filter(|r| r["action"] == "not_attempted").count(), 7);
    let r = against(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert_eq!(sim.count(PUT_ECBN), 10);
    assert!(r.stdout.contains("Apply: 7 updated, 3 in sync"), "{}", r.stdout);
}

#[test]
fn max_failures_stops_the_write_phase() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    // five HQ people pointed at an Austin member: every PUT is refused (other location)
    let sara = id_of("sara.lopez@example.com");
    let who = ["ben.okafor", "carla.rossi", "femi.adeyemi", "gus.berg", "ivan.petrov"];
    let body: String =
        who.iter().map(|w| format!("{},LOCATION_MEMBER_NUMBER,{sara}\n", id_of(&format!("{w}@example.com")))).collect();
    let f = write(d.path(), "bad.csv", &format!("person,selected,location_member\n{body}"));
    let r = against(&sim, d.path(), &["--concurrency", "1", "--max-failures", "2", "apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 2);
    let s = summary(d.path(), "apply");
    assert_eq!(s["counts"]["failed"], 2);
    assert_eq!(s["counts"]["not_attempted"], 3);
    assert!(r.stdout.contains("failed: 400 [Error 27403]"), "{}", r.stdout);
    assert_books_match(&s, &serde_json::json!({}), &sim.stats());
    // without the cap every row is tried and fails
    let r = against(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 3);
    assert_eq!(summary(d.path(), "apply")["counts"]["failed"], 5);
}

#[test]
fn token_rotation_from_token_file() {
    let sim = Sim::sample(&["--latency-ms", "100"]);
    let d = tmp();
    let scopes = serde_json::json!([
        "spark-admin:telephony_config_read",
        "spark-admin:telephony_config_write",
        "spark-admin:people_read"
    ]);
    assert_eq!(sim.post("/_sim/tokens", serde_json::json!({"token": "tok-1", "scopes": scopes})), 204);
    let tf = write(d.path(), "token", "tok-1\n");
    let f = ten_changes(d.path());
    let mut c = job(&sim, d.path(), &["--concurrency", "1", "--token-file"]);
    c.env_remove("WEBEX_TOKEN").arg(&tf).args(["apply", f.to_str().unwrap()]);
    let child = c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // mid-run (some changes written, most not): a new token lands in the file, then the
    // old one is revoked
    wait_until("the first writes", || sim.count(PUT_ECBN) >= 2);
    std::fs::write(&tf, "tok-2\n").unwrap();
    assert_eq!(sim.post("/_sim/tokens", serde_json::json!({"token": "tok-2", "scopes": scopes})), 204);
    assert_eq!(sim.post("/_sim/tokens", serde_json::json!({"token": "tok-1"})), 204);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let s = summary(d.path(), "apply");
    assert_eq!(s["counts"]["updated"], 10);
    assert_eq!(s["counts"]["failed"], 0);
    assert!(s["http_status"]["401"].as_u64().unwrap() >= 1, "the old token was refused once: {s}");
    // an unchanged file after a 401: exit 1
    assert_eq!(sim.post("/_sim/tokens", serde_json::json!({"token": "tok-2"})), 204);
    let mut c = cmd(d.path());
    c.env_remove("WEBEX_TOKEN")
        .args(["--base-url", &sim.base(), "--rate", "0", "--token-file"])
        .arg(&tf)
        .args(["plan", f.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 1);
    // both a token file and the token variable: ambiguous, exit 78
    let mut c = cmd(d.path());
    c.args(["--base-url", &sim.base(), "--token-file"]).arg(&tf).args(["plan", f.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 78);
}
