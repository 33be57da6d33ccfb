//! What a run leaves to those who report on it once it has ended — the metrics file and
//! the notification: its summary and its first problems, handed over when the summary is
//! written. A run that ended before it had a summary (an unreadable file, a missing
//! token) leaves none, and is reported by its exit code and error alone.

use super::Summary;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A run's summary and the first rows that failed or were invalid, as `line N member: why`.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) summary: Summary,
    pub(crate) problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    mode: &'static str,
    started: Instant,
    record: Arc<Mutex<Option<Record>>>,
}

impl Recorder {
    pub(crate) fn new(mode: &'static str) -> Recorder {
        Recorder { mode, started: Instant::now(), record: Arc::default() }
    }

    /// The run's summary is written: this is its record.
    pub(crate) fn record(&self, summary: &Summary, problems: Vec<String>) {
        if let Ok(mut slot) = self.record.lock() {
            *slot = Some(Record { summary: summary.clone(), problems });
        }
    }

    pub(crate) fn taken(&self) -> Option<Record> {
        self.record.lock().ok().and_then(|r| r.clone())
    }

    pub(crate) fn mode(&self) -> &'static str {
        self.mode
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
