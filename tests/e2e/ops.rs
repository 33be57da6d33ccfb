//! Operating it: shell completions and the systemd units.

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// What bash completes after `words` (the last one being completed), with the script the
/// binary prints sourced the way a user's shell does.
fn bash_completes(script: &Path, words: &[&str]) -> String {
    let cword = words.len() - 1;
    let prev = words[cword - 1];
    let line = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={cword}; _ecbn__sync ecbn-sync '{}' '{prev}'; echo \"${{COMPREPLY[*]}}\"",
        script.display(),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words[cword],
    );
    let out = Command::new("bash").args(["--norc", "-c", &line]).output().expect("bash");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    let d = tmp();
    let r = run(cmd(d.path()).args(["completions", "bash"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let script = write(d.path(), "ecbn-sync.bash", &r.stdout);
    assert_eq!(bash_completes(&script, &["ecbn-sync", "pl"]), "plan");
    // after a subcommand too (a hyphenated binary name broke this in clap_complete)
    assert_eq!(bash_completes(&script, &["ecbn-sync", "plan", "--require-c"]), "--require-callback");
    assert_eq!(bash_completes(&script, &["ecbn-sync", "export", "--ki"]), "--kind");
    assert_eq!(bash_completes(&script, &["ecbn-sync", "sim", "generate", "--peo"]), "--people");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let r = run(cmd(d.path()).args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("require-callback"), "{shell}");
    }
    assert_eq!(run(cmd(d.path()).args(["completions", "tcsh"])).code, 64);
    assert_eq!(run(cmd(d.path()).args(["--rate", "3", "completions", "bash"])).code, 64);
}

/// The units as shipped, with the binary at the path of the one under test (verify
/// checks that ExecStart= is executable).
fn units(d: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/systemd");
    let service = std::fs::read_to_string(dir.join("ecbn-sync.service")).unwrap();
    assert!(service.contains("ExecStart=/usr/local/bin/ecbn-sync "), "{service}");
    let service = write(d, "ecbn-sync.service", &service.replace("/usr/local/bin/ecbn-sync", BIN));
    let timer = write(d, "ecbn-sync.timer", &std::fs::read_to_string(dir.join("ecbn-sync.timer")).unwrap());
    (service, timer)
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let d = tmp();
    let (service, timer) = units(d.path());
    let verify = |files: &[&Path]| {
        Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .args(files)
            .output()
            .expect("systemd-analyze (Debian's systemd package; .ci/run installs it)")
    };
    let out = verify(&[&service, &timer]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
    // verify does see mistakes: an unknown key is reported, a bad calendar refused
    let typo = std::fs::read_to_string(&service).unwrap().replace("ProtectSystem=", "ProtectSytem=");
    let out = verify(&[&write(d.path(), "ecbn-sync.service", &typo)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unknown key"), "{out:?}");
    let bad = std::fs::read_to_string(&timer).unwrap().replace("OnCalendar=*-*-* 02:30:00", "OnCalendar=nightly-ish");
    assert!(!verify(&[&write(d.path(), "ecbn-sync.timer", &bad)]).status.success());

    // the contract's hardening and schedule
    let (service, timer) = units(d.path());
    let (service, timer) = (std::fs::read_to_string(service).unwrap(), std::fs::read_to_string(timer).unwrap());
    for key in [
        "Type=oneshot",
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=ecbn-sync",
        "LoadCredential=webex-token:",
        "Environment=ECBN_SYNC_TOKEN_FILE=%d/webex-token",
        "Environment=ECBN_SYNC_SKIP_INVALID=true",
        "NoNewPrivileges=yes",
    ] {
        assert!(service.lines().any(|l| l.starts_with(key)), "{key}");
    }
    for key in ["OnCalendar=", "Persistent=true", "RandomizedDelaySec="] {
        assert!(timer.lines().any(|l| l.starts_with(key)), "{key}");
    }
}

/// The token reaches the job the way the unit passes it: a credential file named by
/// ECBN_SYNC_TOKEN_FILE, read as token_file.
#[test]
fn the_units_token_file_is_read_from_the_environment() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let token = write(d.path(), "webex-token", "admin-token\n");
    let mut c = job(&sim, d.path(), &["plan", sample("desired.csv").to_str().unwrap()]);
    c.env_remove("WEBEX_TOKEN").env("ECBN_SYNC_TOKEN_FILE", &token);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// prometheus_client's parser reads the file and finds what the summaries say.
fn prom_check(metrics: &Path, expect: serde_json::Value) {
    let d = tmp();
    let expect_file = write(d.path(), "expect.json", &expect.to_string());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/prom_check.py");
    let out = Command::new("python3").arg(script).arg(metrics).arg(expect_file).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(metrics).unwrap_or_default()
    );
}

#[test]
fn the_metrics_file_says_what_the_summaries_say() {
    if !crate::python::python_with("prometheus_client") {
        return;
    }
    let sim = Sim::sample(&[]);
    let d = tmp();
    let prom = d.path().join("textfile/ecbn-sync.prom");
    std::fs::create_dir_all(prom.parent().unwrap()).unwrap();
    let desired = sample("desired.csv");
    let (desired, bad) = (desired.to_str().unwrap(), sample("desired-bad.csv"));
    let with = |args: &[&str]| {
        let mut c = job(&sim, d.path(), args);
        c.env("ECBN_SYNC_METRICS_FILE", &prom);
        run(&mut c)
    };
    assert_eq!(with(&["plan", desired]).code, 0);
    let plan = summary(d.path(), "plan");
    assert_eq!(with(&["check", bad.to_str().unwrap()]).code, 65);
    let check = summary(d.path(), "check");
    assert_eq!(with(&["--max-changes", "0", "apply", desired]).code, 69);
    let refused = summary(d.path(), "apply");
    prom_check(
        &prom,
        serde_json::json!({"summaries": {"plan": plan, "check": check, "apply": refused},
                           "last_success": {"plan": plan}, "no_success": ["apply", "check"]}),
    );

    assert_eq!(with(&["apply", desired]).code, 0);
    let applied = summary(d.path(), "apply");
    assert_eq!(with(&["export", "--all", "--out", "export.csv"]).code, 0);
    let export = summary(d.path(), "export");
    prom_check(
        &prom,
        serde_json::json!({"summaries": {"plan": plan, "check": check, "apply": applied, "export": export},
                           "last_success": {"plan": plan, "apply": applied, "export": export}, "no_success": ["check"]}),
    );

    // a run that could not read its file still says so, and keeps the last success
    assert_eq!(with(&["apply", "missing.csv"]).code, 65);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("ecbn_sync_exit_code{mode=\"apply\"} 65"), "{text}");
    prom_check(
        &prom,
        serde_json::json!({"summaries": {"plan": plan}, "last_success": {"apply": applied}, "no_success": []}),
    );
    // the command line's own errors write nothing
    let before = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(with(&["apply"]).code, 64);
    assert_eq!(std::fs::read_to_string(&prom).unwrap(), before);
}

/// The messages the simulator's spaces got.
fn messages(sim: &Sim) -> Vec<serde_json::Value> {
    sim.get("/_sim/messages").as_array().unwrap().clone()
}

#[test]
fn a_run_tells_its_space_how_it_went() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    // a bot that may only post messages; the run's admin token may not
    let bot = serde_json::json!({"token": "bot-token", "scopes": ["spark:messages_write"]});
    assert!(sim.post("/_sim/tokens", bot) < 300);
    write(d.path(), "config.toml", "[notify]\nroom_id = \"ROOM-OPS\"\ntoken_env = \"BOT_TOKEN\"\non = \"always\"\n");
    let desired = sample("desired.csv");
    let desired = desired.to_str().unwrap();
    let with_bot = |args: &[&str]| {
        let mut c = job(&sim, d.path(), args);
        c.env("BOT_TOKEN", "bot-token");
        run(&mut c)
    };
    let r = with_bot(&["apply", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = messages(&sim);
    assert_eq!(got.len(), 1, "{got:?}");
    let m = got[0]["markdown"].as_str().unwrap();
    assert_eq!(got[0]["roomId"], "ROOM-OPS");
    // the first line names the host it ran on
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(m.starts_with(&format!("**ecbn-sync apply** on `{}`: exit 0 (done)", host.trim())), "{m}");
    assert!(m.contains("16 rows:") && m.contains("updated 7") && m.contains("in_sync 5"), "{m}");
    for f in summary(d.path(), "apply")["report_files"].as_array().unwrap() {
        assert!(m.contains(f.as_str().unwrap()), "{m}");
    }
    assert!(!m.contains("bot-token") && !m.contains("admin-token"), "no token in the message");

    // on = failure: a clean run says nothing; a bad file says why, with its first rows;
    // the room from the command line wins over the file's
    write(d.path(), "config.toml", "[notify]\nroom_id = \"ROOM-OPS\"\ntoken_env = \"BOT_TOKEN\"\non = \"failure\"\n");
    assert_eq!(with_bot(&["plan", desired]).code, 0);
    assert_eq!(messages(&sim).len(), 1);
    let bad = sample("desired-bad.csv");
    assert_eq!(with_bot(&["--notify-room", "ROOM-CLI", "plan", bad.to_str().unwrap()]).code, 65);
    let got = messages(&sim);
    assert_eq!(got.len(), 2);
    let m = got[1]["markdown"].as_str().unwrap();
    assert_eq!(got[1]["roomId"], "ROOM-CLI");
    assert!(m.starts_with(&format!("**ecbn-sync plan** on `{}`: exit 65 (`", host.trim())), "{m}");
    assert!(m.contains("First problems:\n- `line 2 "), "{m}");

    // a notification that cannot be sent is a warning: same exit code, reports written
    let r = run(job(&sim, d.path(), &["plan", bad.to_str().unwrap()]).env_remove("BOT_TOKEN"));
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("the notification could not be posted") && r.stderr.contains("BOT_TOKEN"),
        "{}",
        r.stderr
    );
    assert_eq!(summary(d.path(), "plan")["exit_code"], 65);
    // the run's own token is used when no token_env is set; this one may not post (403)
    write(d.path(), "config.toml", "[notify]\nroom_id = \"ROOM-OPS\"\n");
    let r = against(&sim, d.path(), &["apply", desired]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("the notification could not be posted") && r.stderr.contains("403"), "{}", r.stderr);
    assert_eq!(messages(&sim).len(), 2);
}

/// The DOM of a page after its scripts ran, in headless Chromium (Debian's `chromium`;
/// `.ci/run` installs it). The flags keep it off the network.
fn chromium_dom(page: &Path, fragment: &str) -> String {
    let profile = tmp();
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .expect("chromium (Debian's chromium package; .ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_html_page_sorts_filters_and_escapes_in_a_browser() {
    let d = tmp();
    // the sample org, with a location whose name is markup
    let mut org: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample("org.json")).unwrap()).unwrap();
    org["locations"][0]["name"] = "<img src=x onerror=alert(1)>HQ".into();
    let fx = write(d.path(), "org.json", &org.to_string());
    let sim = Sim::start(&fx, &[]);
    let r = against(&sim, d.path(), &["--html", "plan", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = reports(d.path(), "ecbn-plan-", ".html").pop().expect("the page");
    let listed = summary(d.path(), "plan")["report_files"].to_string();
    assert!(listed.contains(&*page.file_name().unwrap().to_string_lossy()), "{listed}");

    let dom = chromium_dom(&page, "");
    // 7 would_update + 4 skipped: every row not in sync, and the counts as the summary says
    assert!(dom.contains("data-shown=\"11\"") && dom.contains("11 of 11 rows shown"), "{dom}");
    assert!(dom.contains("<td data-action=\"would_update\">7</td>"), "{dom}");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;HQ") && !dom.contains("<img src=x"), "{dom}");
    // the filter and the action choice, from the address as a person would share it
    assert!(chromium_dom(&page, "#action=skipped_has_dependents").contains("data-shown=\"4\""));
    assert!(chromium_dom(&page, "#q=kofi").contains("data-shown=\"1\""));
    assert!(chromium_dom(&page, "#q=nobody-has-this").contains("data-shown=\"0\""));
}

/// The per-org template units as shipped, as the instance `acme` (verify loads the
/// template for it), with the binary at the path of the one under test.
fn template_units(d: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/systemd");
    let service = std::fs::read_to_string(dir.join("ecbn-sync@.service")).unwrap();
    write(d, "ecbn-sync@.service", &service.replace("/usr/local/bin/ecbn-sync", BIN));
    write(d, "ecbn-sync@.timer", &std::fs::read_to_string(dir.join("ecbn-sync@.timer")).unwrap());
    (d.join("ecbn-sync@acme.service"), d.join("ecbn-sync@acme.timer"))
}

#[test]
fn the_per_org_template_units_verify_and_their_settings_run_a_refresh_grant() {
    let d = tmp();
    let (service, timer) = template_units(d.path());
    let verify = |files: &[&Path]| {
        Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .args(files)
            .output()
            .expect("systemd-analyze (Debian's systemd package; .ci/run installs it)")
    };
    let out = verify(&[&service, &timer]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
    let text = std::fs::read_to_string(d.path().join("ecbn-sync@.service")).unwrap();
    write(d.path(), "ecbn-sync@.service", &text.replace("ProtectSystem=", "ProtectSytem="));
    assert!(String::from_utf8_lossy(&verify(&[&service]).stderr).contains("Unknown key"), "verify reads the template");
    write(d.path(), "ecbn-sync@.service", &text);
    for key in [
        "StateDirectory=ecbn-sync/%i",
        "LoadCredential=client-secret:/etc/ecbn-sync/%i.secret",
        "Environment=ECBN_SYNC_SKIP_INVALID=true",
        "Environment=ECBN_SYNC_LOG_FORMAT=json",
        "ExecStart=",
    ] {
        assert!(text.lines().any(|l| l.starts_with(key)), "{key}");
    }

    // what the unit sets, with its specifiers as systemd fills them for `acme`, runs a
    // night against the simulator's token endpoint: JSON lines only, reports in the
    // instance's own state directory
    let (etc, creds, state) = (d.path().join("etc"), d.path().join("creds"), d.path().join("state"));
    let home = state.join("ecbn-sync/acme");
    for dir in [&etc, &creds, &home] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let sim = Sim::start(&grant_fixture(d.path()), &[]);
    write(
        &etc,
        "acme.toml",
        &format!("[webex]\nbase_url = \"{}\"\nclient_id = \"C1\"\n[limits]\nrate = 0\n", sim.base()),
    );
    std::fs::copy(sample("desired.csv"), etc.join("acme.csv")).unwrap();
    write(&creds, "client-secret", &format!("{CLIENT_SECRET}\n"));
    write(&home, "refresh-token", &format!("{REFRESH_TOKEN}\n"));
    let fill = |v: &str| {
        v.replace("%S", state.to_str().unwrap())
            .replace("%d", creds.to_str().unwrap())
            .replace("%i", "acme")
            .replace("/etc/ecbn-sync", etc.to_str().unwrap())
    };
    let mut c = cmd(&home);
    c.env_remove("WEBEX_TOKEN");
    for line in text.lines() {
        if let Some((k, v)) = line.strip_prefix("Environment=").and_then(|kv| kv.split_once('=')) {
            c.env(k, fill(v));
        }
    }
    let exec = text.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    c.args(exec.split_whitespace().skip(1).map(fill));
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout: {}", r.stdout);
    for line in r.stderr.lines() {
        assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "not a JSON line: {line}");
    }
    assert_eq!(sim.count("POST /v1/access_token"), 1);
    let reports: Vec<_> = std::fs::read_dir(home.join("reports")).unwrap().collect();
    assert!(reports.len() >= 3, "the apply's reports and rollback file: {reports:?}");
    assert!(home.join("refresh-token.cache").exists());
}
