//! `check`: validate the desired file offline, in one streamed pass, so a file of
//! millions of rows never sits in memory.
//!
//! 1. One thread reads and validates rows; this one runs the cross-row checks and
//!    writes each row to the report as it comes (`valid` or `invalid`).
//! 2. A repeated member is known at its second row; at the end every row of a repeated
//!    member is amended in the report, with all the other lines of that member.

use super::sink::Sink;
use super::{Mode, Stamp};
use crate::config::Settings;
use crate::desired::{self, FileError};
use crate::error::{Error, Outcome};
use crate::plan::{self, Duplicates, Keyed};
use crate::report::Recorder;
use crate::row::{Parsed, Row, Verdict};
use std::collections::HashMap;
use std::path::Path;

/// Rows handed from the reader thread to the writer at a time.
const BATCH: usize = 8192;

pub(crate) fn run(path: &Path, s: &Settings, recorder: &Recorder) -> Result<Outcome, Error> {
    let stamp = Stamp::now();
    let opts = s.read_options();
    let mut sink = Sink::create(Mode::Check, path, 0, s, &stamp, recorder)?;
    let mut dups = Duplicates::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Row<Parsed>>>(4);
    let streamed = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut batch = Vec::with_capacity(BATCH);
            let read = desired::stream(path, &opts, |row| {
                batch.push(row);
                if batch.len() == BATCH {
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            });
            let _ = tx.send(batch);
            drop(tx);
            read
        });
        for row in rx.into_iter().flatten() {
            vet(row, &mut dups, &mut sink);
        }
        reader.join().unwrap_or_else(|_| {
            let message = "the reader failed".into();
            Err(FileError::Malformed { path: path.display().to_string(), line: 0, message })
        })
    });
    if let Err(e) = streamed {
        sink.discard();
        return Err(e.into());
    }
    // every row of a repeated member, with all the other lines of that member
    let mut fixes = HashMap::new();
    for lines in dups.groups() {
        for &line in lines {
            let m = plan::duplicate(line, lines).to_string();
            crate::logging::diag(&format!("{}:{line}: {m}", sink.desired_file()));
            fixes.insert(line, m);
        }
    }
    sink.amend(&fixes);
    let invalid = sink.count(crate::report::Action::Invalid);
    let end = match invalid {
        0 => Ok(Outcome::Clean),
        _ if s.skip_invalid => Ok(Outcome::Partial),
        count => Err(Error::InvalidRows { path: sink.desired_file().to_string(), count }),
    };
    sink.close(end, None, false)
}

/// The cross-row checks of one streamed row, then its report line.
fn vet(mut row: Row<Parsed>, dups: &mut Duplicates, sink: &mut Sink) {
    let repeated = match row.stage.member_key() {
        Some(key) => dups.note(key, row.line).map(|lines| plan::duplicate(row.line, lines)),
        None => None,
    };
    let amended_later = repeated.is_some();
    match repeated {
        Some(e) => plan::reject(&mut row, e),
        None => plan::vet_alone(&mut row),
    }
    match row.stage {
        Ok(_) => sink.finish(row, Verdict::Valid),
        Err(ref e) => {
            let e = e.clone();
            // a repeated member's lines are printed at the end, with all its lines
            if !amended_later {
                crate::logging::diag(&format!("{}:{}: {e}", sink.desired_file(), row.line));
            }
            sink.finish(row, Verdict::Invalid(e))
        }
    }
}
