//! Reports: the per-row CSV (streamed, flushed per row), the JSON summary (atomic), the
//! rollback file (appended and flushed before each PUT), names that never overwrite.

use crate::phone;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
#[cfg(test)]
use std::time::UNIX_EPOCH;

pub const COLUMNS: [&str; 14] = [
    "line", "person", "person_id", "action", "current_selected", "current_location_member_id",
    "desired_selected", "desired_location_member_id", "dependent_member_count", "http_status",
    "attempts", "message", "current_effective_number", "current_effective_quality",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    InSync,
    WouldUpdate,
    Updated,
    SkippedHasDependents,
    Invalid,
    Failed,
    NotAttempted,
    Valid,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::InSync => "in_sync",
            Action::WouldUpdate => "would_update",
            Action::Updated => "updated",
            Action::SkippedHasDependents => "skipped_has_dependents",
            Action::Invalid => "invalid",
            Action::Failed => "failed",
            Action::NotAttempted => "not_attempted",
            Action::Valid => "valid",
        }
    }
    pub const RUN: [Action; 7] = [
        Action::InSync, Action::WouldUpdate, Action::Updated, Action::SkippedHasDependents,
        Action::Invalid, Action::Failed, Action::NotAttempted,
    ];
}

/// One line of the per-row report, borrowing from the row it describes.
#[derive(Debug, Clone, Default)]
pub struct RowReport<'a> {
    pub line: usize,
    pub person: &'a str,
    pub person_id: &'a str,
    pub action: Option<Action>,
    pub current_selected: &'a str,
    pub current_location_member_id: &'a str,
    pub desired_selected: &'a str,
    pub desired_location_member_id: &'a str,
    pub dependent_member_count: Option<u64>,
    pub http_status: Option<u16>,
    pub attempts: u32,
    pub message: std::borrow::Cow<'a, str>,
    pub current_effective_number: &'a str,
    pub current_effective_quality: &'a str,
}

/// Keep spreadsheets from running a cell as a formula.
pub fn escape_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = match s.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !phone::looks_like_phone(s),
        _ => false,
    };
    if risky { format!("'{s}").into() } else { s.into() }
}

/// `YYYYMMDDTHHMMSSZ` (for file names) and RFC 3339 for a UTC instant, to the second.
pub fn timestamps(t: SystemTime) -> (String, String) {
    let iso = humantime::format_rfc3339_seconds(t).to_string();
    (iso.replace(['-', ':'], ""), iso)
}

/// The files of one run: `ecbn-<mode>-<TS>[-N].csv|json`, `ecbn-rollback-<TS>[-N].csv`.
pub struct ReportSet {
    pub csv_path: PathBuf,
    pub json_path: PathBuf,
    pub rollback_path: PathBuf,
    csv: csv::Writer<File>,
    rollback: Option<csv::Writer<File>>,
    flush_interval: Duration,
    last_flush: Instant,
}

impl ReportSet {
    /// Create the row report; picks a suffix when any name of this run exists already.
    pub fn create(dir: &Path, mode: &str, ts: &str) -> io::Result<ReportSet> {
        std::fs::create_dir_all(dir)?;
        for n in 1.. {
            let suffix = if n == 1 { String::new() } else { format!("-{n}") };
            let csv_path = dir.join(format!("ecbn-{mode}-{ts}{suffix}.csv"));
            let json_path = dir.join(format!("ecbn-{mode}-{ts}{suffix}.json"));
            let rollback_path = dir.join(format!("ecbn-rollback-{ts}{suffix}.csv"));
            if json_path.exists() || rollback_path.exists() {
                continue;
            }
            let file = match OpenOptions::new().write(true).create_new(true).open(&csv_path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            let mut csv = csv::Writer::from_writer(file);
            csv.write_record(COLUMNS)?;
            csv.flush()?;
            return Ok(ReportSet {
                csv_path,
                json_path,
                rollback_path,
                csv,
                rollback: None,
                flush_interval: Duration::ZERO,
                last_flush: Instant::now(),
            });
        }
        unreachable!("an unbounded suffix search always ends")
    }

    /// Append one finished row and flush it, so a killed run leaves valid CSV.
    pub fn row(&mut self, r: &RowReport<'_>) -> io::Result<()> {
        let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        let (line, deps, status, attempts) = (
            r.line.to_string(),
            num(r.dependent_member_count),
            num(r.http_status.map(u64::from)),
            r.attempts.to_string(),
        );
        let rec = [
            line.as_str().into(),
            escape_cell(r.person),
            escape_cell(r.person_id),
            r.action.map(Action::as_str).unwrap_or("").into(),
            escape_cell(r.current_selected),
            escape_cell(r.current_location_member_id),
            escape_cell(r.desired_selected),
            escape_cell(r.desired_location_member_id),
            deps.as_str().into(),
            status.as_str().into(),
            attempts.as_str().into(),
            escape_cell(&r.message),
            escape_cell(r.current_effective_number),
            escape_cell(r.current_effective_quality),
        ];
        let rec: [&str; 14] = rec.each_ref().map(|c: &std::borrow::Cow<'_, str>| c.as_ref());
        self.csv.write_record(rec)?;
        if self.flush_interval.is_zero() || self.last_flush.elapsed() >= self.flush_interval {
            self.last_flush = Instant::now();
            self.csv.flush()?;
        }
        Ok(())
    }

    /// Rows are flushed one by one unless an interval is set (whole records either way).
    pub fn set_flush_interval(&mut self, d: Duration) {
        self.flush_interval = d;
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.csv.flush()
    }

    /// Rewrite rows (by `line`) whose action is `from` to `to` with a new message:
    /// through a temp file and a rename, so the report is valid CSV at every moment.
    /// Returns how many rows changed.
    pub fn amend(&mut self, fixes: &std::collections::HashMap<usize, String>, from: Action, to: Action) -> io::Result<usize> {
        self.csv.flush()?;
        let tmp = self.csv_path.with_extension("csv.tmp");
        let mut changed = 0;
        {
            let mut rdr = csv::Reader::from_path(&self.csv_path)?;
            let mut w = csv::Writer::from_path(&tmp)?;
            w.write_record(rdr.byte_headers()?)?;
            let mut rec = csv::StringRecord::new();
            while rdr.read_record(&mut rec)? {
                let fix = rec.get(0).and_then(|l| l.parse::<usize>().ok()).and_then(|l| fixes.get(&l));
                match fix {
                    Some(m) if rec.get(3) == Some(from.as_str()) => {
                        let mut v: Vec<String> = rec.iter().map(str::to_string).collect();
                        v[3] = to.as_str().to_string();
                        v[11] = escape_cell(m).into_owned();
                        w.write_record(&v)?;
                        changed += 1;
                    }
                    _ => w.write_record(&rec)?,
                }
            }
            w.flush()?;
        }
        std::fs::rename(&tmp, &self.csv_path)?;
        self.csv = csv::Writer::from_writer(OpenOptions::new().append(true).open(&self.csv_path)?);
        Ok(changed)
    }

    /// Record a person's previous value before its PUT is sent (created on first use).
    pub fn rollback(&mut self, person_id: &str, selected: &str, member: &str) -> io::Result<()> {
        if self.rollback.is_none() {
            let f = OpenOptions::new().write(true).create_new(true).open(&self.rollback_path)?;
            let mut w = csv::Writer::from_writer(f);
            w.write_record(["person", "selected", "location_member"])?;
            self.rollback = Some(w);
        }
        if let Some(w) = self.rollback.as_mut() {
            w.write_record([person_id, selected, member])?;
            // flushed to the OS before the PUT: survives a killed process
            w.flush()?;
        }
        Ok(())
    }

    pub fn has_rollback(&self) -> bool {
        self.rollback.is_some()
    }

    pub fn files(&self) -> Vec<String> {
        let mut v = vec![self.csv_path.display().to_string(), self.json_path.display().to_string()];
        if self.has_rollback() {
            v.push(self.rollback_path.display().to_string());
        }
        v
    }
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub mode: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub desired_file: String,
    pub report_files: Vec<String>,
    pub rows: usize,
    pub counts: BTreeMap<&'static str, u64>,
    pub requests: BTreeMap<String, u64>,
    pub http_status: BTreeMap<String, u64>,
    pub retries: u64,
    pub rerun_needed: bool,
    pub rollback_unrestorable: Vec<String>,
    pub exit_code: i32,
}

pub fn write_summary(path: &Path, s: &Summary) -> io::Result<()> {
    crate::atomic::write_json(path, s)
}

/// Stdout lines, as a terraform-like plan: `~` change, `!` skip, `x` failure.
pub struct Printer {
    quiet: bool,
}

impl Printer {
    pub fn new(quiet: bool) -> Printer {
        Printer { quiet }
    }
    pub fn line(&self, s: &str) {
        if !self.quiet {
            print_line(s);
        }
    }
    /// The summary line is printed even when quiet: scripts read it.
    pub fn summary(&self, s: &str) {
        print_line(s);
    }
}

/// One stdout line; a progress bar on stderr (a terminal only) is lifted while it prints.
fn print_line(s: &str) {
    tracing_indicatif::suspend_tracing_indicatif(|| {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{s}");
        let _ = out.flush();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(escape_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape_cell("+14085550101"), "+14085550101");
        assert_eq!(escape_cell("-1+2"), "'-1+2");
        assert_eq!(escape_cell("\tx"), "'\tx");
        assert_eq!(escape_cell("alice@example.com"), "alice@example.com");
    }

    #[test]
    fn timestamp_format() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_946_400); // 2026-11-29T10:00:00Z
        let (ts, iso) = timestamps(t);
        assert_eq!(ts, "20261129T100000Z");
        assert_eq!(iso, "2026-11-29T10:00:00Z");
        assert_eq!(timestamps(UNIX_EPOCH).0, "19700101T000000Z");
    }

    #[test]
    fn names_never_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let a = ReportSet::create(d.path(), "plan", "T").unwrap();
        let b = ReportSet::create(d.path(), "plan", "T").unwrap();
        assert!(b.csv_path.to_string_lossy().ends_with("ecbn-plan-T-2.csv"));
        assert!(b.rollback_path.to_string_lossy().ends_with("ecbn-rollback-T-2.csv"));
        drop(a);
    }
}
