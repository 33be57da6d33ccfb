//! Simulator fidelity against an independent client: the Python wxc-sdk.

use crate::support::*;
use std::process::Command;

/// Skip (with a message) when Python or wxc-sdk is missing, unless ECBN_REQUIRE_PYTHON=1.
pub fn python_with(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("ECBN_REQUIRE_PYTHON").as_deref() != Ok("1"),
            "python3 with {module} is required (ECBN_REQUIRE_PYTHON=1); install tests/python-requirements.txt"
        );
        eprintln!("SKIPPED: python3 with {module} is not installed (pip install -r tests/python-requirements.txt)");
    }
    ok
}

#[test]
fn wxc_sdk_drives_the_simulator_without_model_errors() {
    if !python_with("wxc_sdk") {
        return;
    }
    let sim = Sim::sample(&[]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/wxc_sdk_check.py");
    // strict models: a field or an enum value the SDK does not know fails the check
    let out =
        Command::new("python3").arg(script).arg(sim.base()).env("API_MODEL_ALLOW_EXTRA", "forbid").output().unwrap();
    assert!(
        out.status.success(),
        "wxc-sdk check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wxc-sdk check: ok"));
}

#[test]
fn wxc_sdk_refreshes_a_token_at_the_simulator() {
    if !python_with("wxc_sdk") {
        return;
    }
    let d = tmp();
    let sim = Sim::start(&grant_fixture(d.path()), &[]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/wxc_sdk_refresh_check.py");
    let out = Command::new("python3")
        .arg(script)
        .args([&sim.base(), "C1", CLIENT_SECRET, REFRESH_TOKEN])
        .env("API_MODEL_ALLOW_EXTRA", "forbid")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wxc-sdk refresh check failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("wxc-sdk refresh check: ok"));
    assert_eq!(sim.count("POST /v1/access_token"), 3);
}

#[test]
fn bench_smoke_runs() {
    if !python_with("json") {
        return;
    }
    let d = tmp();
    let json = d.path().join("figures.json");
    let out = Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/run"))
        .args(["--smoke", "--bin", BIN, "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench/run --smoke failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let f: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let fig = |k: &str| f[k].as_f64().unwrap_or_else(|| panic!("no figure {k}:\n{text}"));
    // memory and counts, with room for a loaded machine; each fails for a real fault (a
    // run that holds every row grows past the memory bounds). Speeds and rates depend on
    // the machine: they are printed, and their targets are `bench/run`'s to check, so
    // here they only have to be there.
    let within = |k: &str, lo: f64, hi: f64| {
        assert!((lo..=hi).contains(&fig(k)), "{k} = {} not in [{lo}, {hi}]\n{text}", fig(k))
    };
    for k in ["rate_ratio_50", "share_429_50", "auto_0_ratio", "auto_1_ratio", "throughput_c8", "throughput_c32"] {
        assert!(fig(k).is_finite(), "{k}:\n{text}");
    }
    within("requests_per_person", 1.2, 1.6);
    within("rss_plan_mb", 1.0, 100.0);
    // memory as the work grows: plans of 1,000 and 10,000 people (1M in the full run)
    within("growth_rss_mb_10000", 1.0, 60.0);
    assert_eq!((fig("growth_exit_1000"), fig("growth_exit_10000")), (0.0, 0.0), "{text}");
    within("growth_export_rss_mb_10000", 1.0, 60.0);
    assert_eq!(fig("growth_export_exit_10000"), 0.0, "{text}");
    within("rss_check_mb", 1.0, 150.0);
    assert_eq!((fig("plan_exit"), fig("check_exit")), (0.0, 0.0), "{text}");
    // the plan's HTML page was written and opened (no timing is asserted here)
    within("html_mb", 0.01, 15.0);
    assert!(fig("html_ready_ms") >= 0.0, "the page's script ran:\n{text}");
    // the rollback file's fsync per PUT was measured
    assert!(fig("fsync_ms") > 0.0, "{text}");
}
