//! `keep_reports_days`: after a run, this tool's own report files in the report
//! directory (`ecbn-{check,plan,apply,export,rollback}-<TS>[-N].{csv,json,html}`) whose
//! run started more than N days ago are deleted; nothing else is touched. A file's age is
//! the time stamp in its name (when its run started), not its mtime, which a copy or a
//! backup restore changes.

use std::path::Path;
use std::time::{Duration, SystemTime};

const MODES: [&str; 5] = ["check", "plan", "apply", "export", "rollback"];
const EXTENSIONS: [&str; 3] = ["csv", "json", "html"];

/// Delete the report files of `dir` older than `days` at `now`; how many were deleted.
pub(crate) fn sweep(dir: &Path, days: u64, now: SystemTime) -> usize {
    let Some(then) = now.checked_sub(Duration::from_secs(days.saturating_mul(86_400))) else { return 0 };
    let (cutoff, _) = super::timestamps(then);
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut deleted = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(stamp) = name.to_str().and_then(stamp_of) else { continue };
        if stamp >= cutoff.as_str() || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => deleted += 1,
            Err(e) => tracing::warn!("cannot delete the old report {}: {e}", entry.path().display()),
        }
    }
    if deleted > 0 {
        tracing::info!("deleted {deleted} report files older than {days} days from {}", dir.display());
    }
    deleted
}

/// The time stamp (`YYYYMMDDTHHMMSSZ`) of one of this tool's report file names.
fn stamp_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("ecbn-")?;
    let (mode, rest) = rest.split_once('-')?;
    let (base, ext) = rest.rsplit_once('.')?;
    if !MODES.contains(&mode) || !EXTENSIONS.contains(&ext) {
        return None;
    }
    let (stamp, suffix) = base.split_at_checked(16)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let shaped = stamp.len() == 16
        && digits(&stamp[..8])
        && &stamp[8..9] == "T"
        && digits(&stamp[9..15])
        && stamp.ends_with('Z');
    let suffix_ok = suffix.is_empty() || suffix.strip_prefix('-').is_some_and(digits);
    (shaped && suffix_ok).then_some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_tools_report_names_have_a_stamp() {
        assert_eq!(stamp_of("ecbn-apply-20261208T023000Z.csv"), Some("20261208T023000Z"));
        assert_eq!(stamp_of("ecbn-rollback-20261208T023000Z-2.csv"), Some("20261208T023000Z"));
        assert_eq!(stamp_of("ecbn-export-20261208T023000Z.csv"), Some("20261208T023000Z"));
        for other in [
            "sandbox-state.json",
            ".ecbn-sync.lock",
            "ecbn-apply-20261208T023000Z.csv.bak",
            "ecbn-apply-20261208T023000Z.txt",
            "ecbn-mine-20261208T023000Z.csv",
            "ecbn-apply-2026120XT023000Z.csv",
            "ecbn-apply-20261208T023000Z-x.csv",
            "ecbn-apply-.csv",
            "my-ecbn-apply-20261208T023000Z.csv",
        ] {
            assert_eq!(stamp_of(other), None, "{other}");
        }
    }

    #[test]
    fn a_sweep_deletes_old_report_files_only() {
        let d = tempfile::tempdir().unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_700_000); // 2026-12-08T03:20:00Z
        for name in [
            "ecbn-apply-20261101T023000Z.csv",
            "ecbn-apply-20261101T023000Z.json",
            "ecbn-rollback-20261101T023000Z-2.csv",
            "ecbn-plan-20261201T023000Z.html",
            "ecbn-apply-20261207T023000Z.csv",
            "notes-20261101T023000Z.csv",
            "sandbox-state.json",
        ] {
            std::fs::write(d.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(d.path().join("ecbn-apply-20261101T023000Z.json.d")).unwrap();
        assert_eq!(sweep(d.path(), 30, now), 3);
        let mut left: Vec<String> =
            std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(
            left,
            [
                "ecbn-apply-20261101T023000Z.json.d",
                "ecbn-apply-20261207T023000Z.csv",
                "ecbn-plan-20261201T023000Z.html",
                "notes-20261101T023000Z.csv",
                "sandbox-state.json"
            ]
        );
        assert_eq!(sweep(d.path(), 3, now), 1, "a tighter limit takes the next");
    }
}
