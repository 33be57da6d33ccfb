//! The files of one run: `ecbn-<mode>-<TS>[-N].csv|json` and `ecbn-rollback-<TS>[-N].csv`,
//! with names that never overwrite an earlier run's.

use super::appender::Appender;
use super::{Action, Column, RowLine, escape_cell};
use crate::atomic::AtomicFile;
use crate::desired::DesiredColumn;
use crate::ids::Kind;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) struct ReportSet {
    pub(crate) csv_path: PathBuf,
    pub(crate) json_path: PathBuf,
    pub(crate) rollback_path: PathBuf,
    csv: Appender,
    rollback: Option<Appender>,
    flush_interval: Duration,
    last_flush: Instant,
}

impl ReportSet {
    /// Create the row report; picks a suffix when any name of this run exists already.
    pub(crate) fn create(dir: &Path, mode: &str, ts: &str) -> io::Result<ReportSet> {
        std::fs::create_dir_all(dir)?;
        for n in 1.. {
            let suffix = if n == 1 { String::new() } else { format!("-{n}") };
            let csv_path = dir.join(format!("ecbn-{mode}-{ts}{suffix}.csv"));
            let json_path = dir.join(format!("ecbn-{mode}-{ts}{suffix}.json"));
            let rollback_path = dir.join(format!("ecbn-rollback-{ts}{suffix}.csv"));
            if json_path.exists() || rollback_path.exists() {
                continue;
            }
            let csv = match Appender::create(&csv_path, &Column::header(), false) {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
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

    /// Append one finished row and write it, so a killed run leaves valid CSV.
    pub(crate) fn row(&mut self, r: &RowLine<'_>) -> io::Result<()> {
        self.csv.push(r.cells().each_ref().map(|c| c.as_ref()))?;
        if self.flush_interval.is_zero() || self.last_flush.elapsed() >= self.flush_interval {
            self.last_flush = Instant::now();
            self.csv.commit()?;
        }
        Ok(())
    }

    /// Rows are flushed one by one unless an interval is set (whole records either way).
    pub(crate) fn set_flush_interval(&mut self, d: Duration) {
        self.flush_interval = d;
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.csv.commit()
    }

    /// Make the rows at the given lines `invalid` with a new message, through a temp
    /// file and a rename, so the report is valid CSV at every moment. Returns the kind
    /// (when the report names one) of each row that was `valid` before.
    pub(crate) fn amend(&mut self, fixes: &HashMap<u32, String>) -> io::Result<Vec<Option<Kind>>> {
        self.csv.commit()?;
        let mut out = AtomicFile::create(&self.csv_path)?;
        let mut were_valid = Vec::new();
        {
            let mut rdr = csv::Reader::from_path(&self.csv_path)?;
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(rdr.byte_headers()?)?;
            let mut rec = csv::StringRecord::new();
            while rdr.read_record(&mut rec)? {
                let line = rec.get(Column::Line.index()).and_then(|l| l.parse::<u32>().ok());
                let fix = line.and_then(|l| fixes.get(&l));
                let action = rec.get(Column::Action.index());
                match fix {
                    Some(m) if action == Some(Action::Valid.as_str()) || action == Some(Action::Invalid.as_str()) => {
                        if action == Some(Action::Valid.as_str()) {
                            were_valid.push(rec.get(Column::Kind.index()).and_then(Kind::parse));
                        }
                        let mut v: Vec<String> = rec.iter().map(str::to_string).collect();
                        v[Column::Action.index()] = Action::Invalid.as_str().to_string();
                        v[Column::Message.index()] = escape_cell(m).into_owned();
                        w.write_record(&v)?;
                    }
                    _ => w.write_record(&rec)?,
                }
            }
            w.flush()?;
        }
        out.commit()?;
        self.csv = Appender::reopen(&self.csv_path, false)?;
        Ok(were_valid)
    }

    /// The rollback file, created with its header before the run's first PUT: it
    /// exists whenever a PUT was sent, even one whose previous value cannot be restored.
    pub(crate) fn open_rollback(&mut self) -> io::Result<&mut Appender> {
        if self.rollback.is_none() {
            let header = DesiredColumn::header();
            self.rollback = Some(Appender::create(&self.rollback_path, &header, true)?);
        }
        Ok(self.rollback.as_mut().expect("opened above"))
    }

    /// Record a member's previous value before its PUT is sent: on disk (not only
    /// handed to the OS) when this returns, so neither a kill nor a power cut loses it.
    pub(crate) fn rollback(&mut self, member_id: &str, selected: &str, target: &str, kind: &str) -> io::Result<()> {
        let w = self.open_rollback()?;
        w.push([member_id, selected, target, kind])?;
        w.commit()
    }

    pub(crate) fn files(&self) -> Vec<String> {
        let mut v = vec![self.csv_path.display().to_string(), self.json_path.display().to_string()];
        if self.rollback.is_some() {
            v.push(self.rollback_path.display().to_string());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let a = ReportSet::create(d.path(), "plan", "T").unwrap();
        let b = ReportSet::create(d.path(), "plan", "T").unwrap();
        assert!(b.csv_path.to_string_lossy().ends_with("ecbn-plan-T-2.csv"));
        assert!(b.rollback_path.to_string_lossy().ends_with("ecbn-rollback-T-2.csv"));
        drop(a);
    }

    #[test]
    fn amend_turns_rows_invalid_and_counts_the_valid_ones() {
        let d = tempfile::tempdir().unwrap();
        let mut r = ReportSet::create(d.path(), "check", "T").unwrap();
        for (line, action, kind) in [(2, Action::Valid, "workspace"), (3, Action::Invalid, ""), (4, Action::Valid, "")]
        {
            r.row(&RowLine { line, action, kind, ..Default::default() }).unwrap();
        }
        let fixes = HashMap::from([(2, "dup of 3".to_string()), (3, "=dup of 2".to_string())]);
        assert_eq!(r.amend(&fixes).unwrap(), [Some(Kind::Workspace)], "the kinds of the rows that were valid");
        r.row(&RowLine { line: 5, action: Action::Valid, ..Default::default() }).unwrap();
        r.flush().unwrap();
        let text = std::fs::read_to_string(&r.csv_path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[1].starts_with("2,") && lines[1].contains(",invalid,") && lines[1].contains("dup of 3"));
        assert!(lines[2].contains("'=dup of 2"), "escaped: {}", lines[2]);
        assert!(lines[3].contains(",valid,") && lines[4].starts_with("5,"));
    }
}
