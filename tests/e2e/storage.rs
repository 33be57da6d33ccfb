//! Storage failures: a file-size limit (`ulimit -f`, with SIGXFSZ ignored so a write
//! fails with EFBIG instead of killing the process) stands in for a full disk.

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// `apply` under a file-size limit of `kib` KiB for every file it writes.
fn apply_with_file_limit(sim: &Sim, dir: &Path, desired: &Path, kib: u32, concurrency: u32) -> Ran {
    let conc = concurrency.to_string();
    let inner = job(sim, dir, &["--concurrency", &conc, "apply", desired.to_str().unwrap()]);
    let mut c = Command::new("bash");
    c.current_dir(dir)
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(inner.get_program())
        .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    run(&mut c)
}

#[test]
fn a_rollback_line_that_cannot_be_written_stops_the_puts() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 200, 1.0, 0.0, 11);
    let sim = Sim::start(&fx, &[]);
    let before = ecbn_by_id(&sim.state());
    // 1 KiB: the report's header and first row fit; the rollback lines of the first batch
    // after the first PUT do not
    let r = apply_with_file_limit(&sim, d.path(), &desired, 1, 16);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rollback = reports(d.path(), "ecbn-rollback-", ".csv").pop().expect("rollback file");
    let shown = rollback.file_name().unwrap().to_str().unwrap();
    let last = r.stderr.lines().last().unwrap();
    assert!(last.contains(shown) && last.contains("File too large (os error 27)"), "{}", r.stderr);
    // the summary did not fit either: said so, never said written
    assert!(r.stderr.contains("cannot write the summary") && !r.stderr.contains("reports written"), "{}", r.stderr);

    // every PUT the server received has its whole rollback line, holding the value before
    let lines = whole_records(&rollback).unwrap();
    let puts = sim.count(PUT_ECBN);
    assert!(puts > 0 && puts < 200, "{puts}");
    assert_eq!(lines.len() as u64, puts, "one rollback line per PUT sent, none without");
    for line in &lines {
        let (selected, target) = &before[&line[0]];
        assert_eq!((&line[1], &line[2]), (selected.as_str(), target.as_str()), "{line:?}");
    }
    let report = reports(d.path(), "ecbn-apply-", ".csv").pop().unwrap();
    whole_records(&report).unwrap();

    // the next run, with room, converges; the one after has nothing to write
    let r = against(&sim, d.path(), &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = against(&sim, d.path(), &["plan", desired.to_str().unwrap()]);
    assert!(r.stdout.contains("Plan: 0 to update"), "{}", r.stdout);
}

#[test]
fn a_report_that_cannot_be_written_stops_the_puts() {
    let d = tmp();
    let (fx, desired) = generate(d.path(), 200, 1.0, 0.0, 12);
    let sim = Sim::start(&fx, &[]);
    // one PUT at a time: the report (longer lines than the rollback file's) fills first
    let r = apply_with_file_limit(&sim, d.path(), &desired, 3, 1);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = reports(d.path(), "ecbn-apply-", ".csv").pop().unwrap();
    let shown = report.file_name().unwrap().to_str().unwrap();
    let last = r.stderr.lines().last().unwrap();
    assert!(last.contains(shown) && last.contains("File too large (os error 27)"), "{}", r.stderr);
    let reported = whole_records(&report).unwrap().len() as u64;
    let rollback = reports(d.path(), "ecbn-rollback-", ".csv").pop().unwrap();
    let puts = sim.count(PUT_ECBN);
    assert_eq!(whole_records(&rollback).unwrap().len() as u64, puts);
    // no PUT after the one whose row could not be reported
    assert_eq!(puts, reported + 1, "{puts} PUTs, {reported} rows reported");
    // the summary fits in 3 KiB: it books what was sent, as the server saw it
    assert_books_match(&summary(d.path(), "apply"), &serde_json::json!({}), &sim.stats());
}
