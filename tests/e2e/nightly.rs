//! A year unattended: tokens that renew themselves (the refresh grant against the
//! simulator's token endpoint, its clock moved a day a night and ours with it, through
//! libfaketime), warnings before the refresh token runs out, refusals that write
//! nothing, a rotation that a kill cannot tear, the nightly policy for rows that no
//! longer resolve, and old reports deleted.

use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const DAY: u64 = 86_400;
const TOKEN_ROUTE: &str = "POST /v1/access_token";

/// A working directory for nightly runs: the refresh token file (0600) and a
/// config.toml with the grant and `more`.
fn night_dir(more: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    let rt = write(d.path(), "rt", &format!("{REFRESH_TOKEN}\n"));
    std::fs::set_permissions(&rt, std::fs::Permissions::from_mode(0o600)).unwrap();
    write(d.path(), "config.toml", &format!("[webex]\nclient_id = \"C1\"\nrefresh_token_file = \"rt\"\n{more}"));
    d
}

/// The binary `days` ahead of this machine's clock (as the simulator is after
/// `/_sim/clock`), with the grant's secret in its variable and no fixed token.
fn night(sim: &Sim, dir: &Path, days: u64, args: &[&str]) -> Ran {
    run(&mut night_cmd(sim, dir, days, args))
}

fn night_cmd(sim: &Sim, dir: &Path, days: u64, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("ECBN_SYNC_") || k.starts_with("WEBEX_") {
            c.env_remove(k);
        }
    }
    // libfaketime preloaded into the job itself (the `faketime` wrapper's child would
    // outlive a kill), only when the clock moves: a run it was loaded into leaves shared
    // memory behind when killed; tokio's timers keep this machine's monotonic clock
    if days > 0 {
        c.env("LD_PRELOAD", libfaketime()).env("FAKETIME", format!("+{days}d"));
        c.env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }
    c.env("WEBEX_CLIENT_SECRET", CLIENT_SECRET);
    c.args(["--base-url", &sim.base(), "--rate", "0", "--report-dir", "reports"]).args(args);
    c
}

/// Debian's libfaketime (package faketime; `.ci/run` installs it).
fn libfaketime() -> PathBuf {
    let dirs = std::fs::read_dir("/usr/lib").into_iter().flatten().flatten().map(|e| e.path().join("faketime"));
    std::iter::once(PathBuf::from("/usr/lib/faketime"))
        .chain(dirs)
        .map(|d| d.join("libfaketime.so.1"))
        .find(|p| p.is_file())
        .expect("libfaketime.so.1 (Debian's faketime package; .ci/run installs it)")
}

fn advance(sim: &Sim, secs: u64) {
    assert_eq!(sim.post("/_sim/clock", json!({ "advance_secs": secs })), 200);
}

/// Answers of one route by status.
fn answers(sim: &Sim, route: &str, status: &str) -> u64 {
    sim.stats()["by_route"][route][status].as_u64().unwrap_or(0)
}

fn writes(sim: &Sim) -> u64 {
    sim.count(PUT_ECBN)
}

/// Every file under `dir` (the reports), as text.
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            text.push_str(&all_text(&p));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
        }
    }
    text
}

fn two_rows(dir: &Path) -> PathBuf {
    let f = format!(
        "member,selected\n{},DIRECT_LINE\n{},LOCATION_ECBN\n",
        id_of("ben.okafor@example.com"),
        id_of("kofi.mensah@example.com")
    );
    write(dir, "desired.csv", &f)
}

#[test]
fn a_year_of_nights_refreshes_every_two_weeks_and_keeps_a_month_of_reports() {
    let d = night_dir("[run]\nkeep_reports_days = 30\nmetrics_file = \"metrics.prom\"\nskip_invalid = true\n");
    let fx = grant_fixture(d.path());
    let sim = Sim::start(&fx, &[]);
    let desired = two_rows(d.path());
    let desired = desired.to_str().unwrap();
    let mut logs = String::new();
    let mut first_night_writes = 0;
    for day in 0..365 {
        if day > 0 {
            advance(&sim, DAY);
        }
        let r = night(&sim, d.path(), day, &["-q", "--log-format", "json", "apply", desired]);
        assert_eq!(r.code, 0, "night {day}: {}", r.stderr);
        assert!(r.stdout.trim().is_empty() || day == 0, "-q: no plain lines for a JSON journal: {}", r.stdout);
        logs.push_str(&r.stderr);
        logs.push_str(&r.stdout);
        if day == 0 {
            first_night_writes = writes(&sim);
        }
    }
    // a refresh only when less than an hour of the 14-day access token is left: the
    // first night, then every 14th
    let mut expected = 0;
    let mut expires: Option<u64> = None;
    for day in 0..365u64 {
        let now = day * DAY + 60; // a night's run starts a little after its clock moved
        if expires.is_none_or(|e| e <= now + 3600) {
            expected += 1;
            expires = Some(now + 14 * DAY);
        }
    }
    assert_eq!(expected, 27);
    assert_eq!(answers(&sim, TOKEN_ROUTE, "200"), expected, "{}", sim.stats());
    assert_eq!(sim.count(TOKEN_ROUTE), expected, "no refresh failed");
    assert_eq!(answers(&sim, GET_ECBN, "401"), 0, "every refresh came before the token died");
    assert!(first_night_writes > 0);
    assert_eq!(writes(&sim), first_night_writes, "the changes of the first night, then none");
    // the refresh token lives on in use; its file is as it was written
    assert_eq!(std::fs::read_to_string(d.path().join("rt")).unwrap(), format!("{REFRESH_TOKEN}\n"));
    // a month of reports is kept, older ones deleted
    let kept = reports(d.path(), "ecbn-apply-", ".json").len();
    assert!((30..=31).contains(&kept), "{kept} apply summaries kept");
    assert_eq!(reports(d.path(), "ecbn-rollback-", ".csv").len(), 0, "the first night's rollback is gone");
    // the metrics carry both expiries: the refresh token ≥ 76 days out
    let now = sim.get("/_sim/clock")["now"].as_u64().unwrap();
    let metrics = std::fs::read_to_string(d.path().join("metrics.prom")).unwrap();
    let gauge = |name: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(&format!("{name}{{mode=\"apply\"}}"))).expect(name);
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(gauge("ecbn_sync_refresh_token_expiry_timestamp_seconds") > now + 76 * DAY, "{metrics}");
    assert!(gauge("ecbn_sync_access_token_expiry_timestamp_seconds") > now, "{metrics}");
    assert!(!logs.contains("refresh token expires"), "no warning in a year of regular use");
    // no secret anywhere the tool wrote or said
    let metrics = std::fs::read_to_string(d.path().join("metrics.prom")).unwrap();
    let written = all_text(&d.path().join("reports")) + &metrics + &logs;
    for secret in [CLIENT_SECRET, REFRESH_TOKEN, "SIM_AT_"] {
        assert!(!written.contains(secret), "{secret} leaked");
    }
}

#[test]
fn the_refresh_token_warns_two_weeks_ahead_then_a_refusal_writes_nothing() {
    let d = night_dir(
        "[run]\nmetrics_file = \"metrics.prom\"\n[notify]\nroom_id = \"ROOM\"\ntoken_env = \"BOT\"\non = \"failure\"\n",
    );
    let fx = grant_fixture(d.path());
    let sim = Sim::start(&fx, &["--refresh-token-ttl", &(20 * DAY).to_string()]);
    let bot = json!({"token": "bot-token", "scopes": ["spark:messages_write"]});
    assert!(sim.post("/_sim/tokens", bot) < 300);
    let desired = two_rows(d.path());
    let desired = desired.to_str().unwrap();
    let run = |day: u64, args: &[&str]| {
        let mut a = vec!["--log-format", "json"];
        a.extend_from_slice(args);
        run(night_cmd(&sim, d.path(), day, &a).env("BOT", "bot-token"))
    };
    let messages = || sim.get("/_sim/messages").as_array().unwrap().clone();

    let r = run(0, &["plan", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("refresh token expires"), "20 days left: {}", r.stderr);
    assert!(messages().is_empty(), "on = failure, a clean run, no warning: no message");

    // a week later: 13 days left, within 14: every run warns, and says so in the space
    advance(&sim, 7 * DAY);
    let r = run(7, &["plan", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("the refresh token expires at") && r.stderr.contains("in 13 days"), "{}", r.stderr);
    assert_eq!(answers(&sim, TOKEN_ROUTE, "200"), 1, "the cached token still has a week");
    let got = messages();
    assert_eq!(got.len(), 1, "a warning is sent whatever `on` says: {got:?}");
    let m = got[0]["markdown"].as_str().unwrap();
    assert!(m.contains("exit 0") && m.contains("**Warning:**") && m.contains("in 13 days"), "{m}");
    let metrics = std::fs::read_to_string(d.path().join("metrics.prom")).unwrap();
    let started = sim.get("/_sim/clock")["now"].as_u64().unwrap() - 7 * DAY;
    let line = metrics.lines().find(|l| l.starts_with("ecbn_sync_refresh_token_expiry_timestamp_seconds")).unwrap();
    let at: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(at.abs_diff(started + 20 * DAY) < 60, "{line} vs {}", started + 20 * DAY);
    // auth status says the same, with no request
    let before = sim.stats()["total"].as_u64().unwrap();
    let r = run(7, &["auth", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("refresh grant of the integration or service app C1"), "{}", r.stdout);
    assert!(r.stdout.contains("refresh token:   expires") && r.stdout.contains("in 13 days"), "{}", r.stdout);
    assert!(r.stdout.contains("(mode 0600)") && r.stderr.contains("refresh token expires"), "{r:?}");
    assert_eq!(sim.stats()["total"].as_u64().unwrap(), before, "auth status sends nothing");
    let r = run(7, &["auth", "status", "--check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("acts for:        Simulator Admin <admin@example.com>, org "), "{}", r.stdout);
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains(CLIENT_SECRET) && !text.contains(REFRESH_TOKEN) && !text.contains("SIM_AT_"));
    }

    // the run after the access token's end refreshes, and the refresh token lives on
    advance(&sim, 7 * DAY);
    let r = run(14, &["plan", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(answers(&sim, TOKEN_ROUTE, "200"), 2);
    assert!(!r.stderr.contains("refresh token expires"), "20 days again: {}", r.stderr);

    // nobody ran it for five weeks: the refresh token died; apply stops before writing
    advance(&sim, 35 * DAY);
    let reads = sim.count(GET_ECBN);
    let r = run(49, &["apply", desired]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("the refresh token was refused (400: the refresh token has expired); create a new one"),
        "{}",
        r.stderr
    );
    assert_eq!(writes(&sim), 0, "nothing written on a refused refresh");
    assert_eq!(sim.count(GET_ECBN), reads, "no request after the refusal");
    let s = summary(d.path(), "apply");
    assert_eq!(s["exit_code"], 1);
    assert_eq!(s["requests"][TOKEN_ROUTE], 1, "the refresh is booked: {s}");
    let got = messages();
    assert!(got.last().unwrap()["markdown"].as_str().unwrap().contains("exit 1"), "{got:?}");
    let metrics = std::fs::read_to_string(d.path().join("metrics.prom")).unwrap();
    assert!(metrics.contains("ecbn_sync_exit_code{mode=\"apply\"} 1"), "{metrics}");
}

#[test]
fn a_401_renews_once_for_every_worker_and_a_refused_renewal_writes_nothing() {
    let d = night_dir("");
    let fx = grant_fixture(d.path());
    let sim = Sim::start(&fx, &[]);
    let desired = sample("desired.csv");
    let desired = desired.to_str().unwrap();
    assert_eq!(night(&sim, d.path(), 0, &["plan", desired]).code, 0);
    let cached = |d: &Path| -> String {
        let c: Value = serde_json::from_str(&std::fs::read_to_string(d.join("rt.cache")).unwrap()).unwrap();
        c["access_token"].as_str().unwrap().to_string()
    };
    // the access token is revoked behind the cache's back
    assert!(sim.post("/_sim/tokens", json!({"token": cached(d.path())})) < 300);
    let r = night(&sim, d.path(), 0, &["--concurrency", "8", "apply", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(answers(&sim, TOKEN_ROUTE, "200"), 2, "one renewal");
    let unauthorized: u64 =
        sim.stats()["by_route"].as_object().unwrap().values().map(|s| s["401"].as_u64().unwrap_or(0)).sum();
    assert_eq!(unauthorized, 1, "the first request goes alone; the rest use the new token");
    assert_eq!(summary(d.path(), "apply")["counts"]["updated"], 7);

    // revoked again, and the renewal refused (a wrong secret): exit 1, nothing written
    let before = writes(&sim);
    assert!(sim.post("/_sim/tokens", json!({"token": cached(d.path())})) < 300);
    write(d.path(), "secret", "wrong-secret\n");
    write(
        d.path(),
        "config.toml",
        "[webex]\nclient_id = \"C1\"\nrefresh_token_file = \"rt\"\nclient_secret_file = \"secret\"\n",
    );
    let r = night(&sim, d.path(), 0, &["apply", desired]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("the refresh token was refused (400: invalid client_id or client_secret)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("secret") && r.stderr.contains("mode 06"), "a secret file others may read: {}", r.stderr);
    assert_eq!(writes(&sim), before, "nothing written");
}

#[test]
fn a_bad_grant_is_refused_with_its_exit_code_and_nothing_written() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    let fx = grant_fixture(d.path());
    let sim = Sim::start(&fx, &[]);
    let desired = sample("desired.csv");
    let desired = desired.to_str().unwrap();
    let grant = "[webex]\nclient_id = \"C1\"\nrefresh_token_file = \"rt\"\n";
    // the configuration: exit 78 before anything, naming the part or both sources
    for (config, env, says) in [
        ("[webex]\nclient_id = \"C1\"\n", None, "the refresh grant is missing refresh_token_file"),
        ("[webex]\nrefresh_token_file = \"rt\"\n", None, "the refresh grant is missing client_id"),
        (grant, Some(("WEBEX_TOKEN", "admin-token")), "both a fixed token (the variable WEBEX_TOKEN"),
        (&format!("{grant}token_file = \"tok\"\n"), None, "both a fixed token (token_file (tok))"),
        (
            grant,
            Some(("WEBEX_CLIENT_SECRET", "")),
            "missing its client secret: set the environment variable WEBEX_CLIENT_SECRET",
        ),
    ] {
        let n = night_dir("");
        write(n.path(), "config.toml", config);
        let mut c = night_cmd(&sim, n.path(), 0, &["apply", desired]);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let r = run(&mut c);
        assert_eq!(r.code, 78, "{config}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{config}: {}", r.stderr);
    }
    // the refresh token file: empty, a directory, absent, a symlink → 78
    type Spoil = fn(&Path);
    let cases: [(&str, Spoil); 4] = [
        ("is empty", |p| std::fs::write(p.join("rt"), "\n").unwrap()),
        ("is not a regular file", |p| {
            std::fs::remove_file(p.join("rt")).unwrap();
            std::fs::create_dir(p.join("rt")).unwrap();
        }),
        ("cannot read the refresh token file", |p| std::fs::remove_file(p.join("rt")).unwrap()),
        ("is a symlink; give the file's own path", |p| {
            std::fs::rename(p.join("rt"), p.join("real-rt")).unwrap();
            std::os::unix::fs::symlink(p.join("real-rt"), p.join("rt")).unwrap();
        }),
    ];
    for (says, spoil) in cases {
        let n = night_dir("");
        spoil(n.path());
        let r = night(&sim, n.path(), 0, &["apply", desired]);
        assert_eq!(r.code, 78, "{says}: {}", r.stderr);
        assert!(r.stderr.contains(says) && r.stderr.contains("refresh token file"), "{says}: {}", r.stderr);
    }
    assert_eq!(sim.stats()["total"], 0, "nothing was sent for a bad configuration");
    // a refresh token file others may read: a warning naming it and its mode; the run goes on
    let n = night_dir("");
    std::fs::set_permissions(n.path().join("rt"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = night(&sim, n.path(), 0, &["plan", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("rt is readable by group or others (mode 0644)"), "{}", r.stderr);

    // the token endpoint misbehaves: exit 1, a clear message, nothing written, and the
    // secrets never reach the redirect's other port
    for (faults, says) in [
        (json!({"redirect_rate": 1.0}), "redirect refused: 307"),
        (json!({"body_fault": "html", "body_fault_rate": 1.0}), "unreadable answer"),
        (json!({"fail_rate": 1.0}), "the access token could not be renewed: POST http://127.0.0.1"),
    ] {
        assert!(sim.post("/_sim/faults", faults.clone()) < 300);
        let n = night_dir("");
        let r = night(&sim, n.path(), 0, &["--max-retries", "1", "--max-backoff-secs", "1", "apply", desired]);
        assert!(sim.post("/_sim/reset", json!({})) < 300);
        let off = json!({"redirect_rate": 0.0, "body_fault": null, "fail_rate": 0.0});
        assert!(sim.post("/_sim/faults", off) < 300);
        assert_eq!(r.code, 1, "{faults}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{faults}: {}", r.stderr);
        assert_eq!(summary(n.path(), "apply")["counts"]["not_attempted"], 16, "{faults}");
        assert_eq!(std::fs::read_to_string(n.path().join("rt")).unwrap(), format!("{REFRESH_TOKEN}\n"));
        assert!(!n.path().join("rt.cache").exists(), "{faults}: no cache of a failed refresh");
    }
    assert_eq!(sim.get("/_sim/redirected")["received"].as_array().map_or(0, Vec::len), 0);
}

#[test]
fn a_kill_during_a_rotation_leaves_the_old_or_the_new_refresh_token() {
    let d = night_dir("");
    let config = "[webex]\nclient_id = \"C1\"\nrefresh_token_file = \"rt\"\nrefresh_margin_secs = 100000\n";
    write(d.path(), "config.toml", config);
    let fx = grant_fixture(d.path());
    // every run refreshes (the margin is longer than the token's life) and every refresh
    // rotates; each answer takes 15 ms, so kills land before, during and after them
    let sim = Sim::start(&fx, &["--rotate-refresh-tokens", "--latency-ms", "15", "--access-token-ttl", "600"]);
    let one =
        write(d.path(), "one.csv", &format!("member,selected\n{},DIRECT_LINE\n", id_of("ben.okafor@example.com")));
    let one = one.to_str().unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut rng = 0x2545_f491_u64;
    for i in 0..40 {
        let mut child = night_cmd(&sim, d.path(), 0, &["plan", one])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(std::time::Duration::from_millis(rng % 90));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let text = std::fs::read_to_string(d.path().join("rt")).unwrap();
        assert!(text.ends_with('\n') && text.lines().count() == 1, "kill {i}: torn: {text:?}");
        let value = text.trim();
        let client = &sim.state()["clients"][0];
        let earlier = client["earlier_refresh_tokens"].as_array().cloned().unwrap_or_default();
        let known = earlier.iter().chain([&client["refresh_token"]]).any(|k| k.as_str() == Some(value));
        assert!(known, "kill {i}: {value} is neither an old nor the new value: {client}");
        seen.insert(value.to_string());
        // whichever it holds works: the next night just runs
        let r = night(&sim, d.path(), 0, &["plan", one]);
        assert_eq!(r.code, 0, "after kill {i}: {}", r.stderr);
    }
    assert!(seen.len() > 10, "the kills did land around rotations: {} values", seen.len());
}

#[test]
fn rows_that_no_longer_resolve_never_hide_the_rest() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let mut text = std::fs::read_to_string(sample("desired.csv")).unwrap();
    text.push_str("gone@example.com,DIRECT_LINE,,,someone who left\n");
    let f = write(d.path(), "desired.csv", &text);
    let f = f.to_str().unwrap();
    // plan: every other row planned, the gone one invalid, exit 3
    let r = against(&sim, d.path(), &["plan", f]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let planned = rows(d.path(), "plan");
    let gone = planned.iter().find(|r| r["member"] == "gone@example.com").unwrap();
    assert_eq!(gone["action"], "invalid");
    assert!(gone["message"].contains("no person with the email"), "{gone:?}");
    assert_eq!(planned.iter().filter(|r| r["action"] == "would_update").count(), 7);
    // apply: stops before any write, says how many it would have done and how to go on
    let r = against(&sim, d.path(), &["apply", f]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("1 rows could not be resolved or were refused; nothing was written"), "{}", r.stderr);
    assert!(r.stderr.contains("The other 16 rows would have been reconciled"), "{}", r.stderr);
    assert!(r.stderr.contains("use --skip-invalid (config skip_invalid = true)"), "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 0);
    // with skip_invalid, the rest is written
    let r = against(&sim, d.path(), &["--skip-invalid", "apply", f]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(summary(d.path(), "apply")["counts"]["updated"], 7);
    // a file error found offline stays exit 65 with no request, in plan too
    let before = sim.stats()["total"].as_u64().unwrap();
    let bad = write(d.path(), "bad.csv", "member,selected\nnot-an-id,DIRECT_LINE\n");
    assert_eq!(against(&sim, d.path(), &["plan", bad.to_str().unwrap()]).code, 65);
    assert_eq!(sim.stats()["total"].as_u64().unwrap(), before);
}
