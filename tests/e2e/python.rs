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
    let out = Command::new("python3").arg(script).arg(sim.base()).output().unwrap();
    assert!(
        out.status.success(),
        "wxc-sdk check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wxc-sdk check: ok"));
}

#[test]
fn bench_smoke_runs() {
    if !python_with("json") {
        return;
    }
    let out = Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/run"))
        .args(["--smoke", "--bin", BIN])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench/run --smoke failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("achieved/limit rate"), "{text}");
    assert!(text.contains("peak RSS"), "{text}");
}
