//! One run's rows and their sink: per-row state, finishing a row (report line, stdout
//! line, counts), the rollback file, and closing with the summary.
//!
//! Memory stays proportional to the rows still in flight: a finished row's strings are
//! released as soon as its report line is written.

use super::{Mode, exit};
use crate::config::Settings;
use crate::desired::{DesiredFile, Row, RowStatus, TargetRef};
use crate::plan;
use crate::report::{Action, Printer, ReportSet, RowReport, Summary};
use crate::webex::Call;
use crate::wire::{EcbnGet, Selected};
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};
use tracing::Span;
use tracing_indicatif::span_ext::IndicatifSpanExt;

/// What the run learned about a row so far.
#[derive(Debug, Default)]
pub(super) struct Item {
    pub done: bool,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub dependent_member_count: Option<u64>,
    /// `selected` as the API returned it (may be a value the tool does not know).
    pub current_selected: String,
    /// The current value, when understood.
    pub current: Option<plan::Current>,
    pub effective_number: String,
    pub effective_quality: String,
    pub warning: String,
}

/// Where finished rows go: the report, stdout, the counts.
pub(super) struct Sink {
    mode: Mode,
    reports: ReportSet,
    printer: Printer,
    counts: BTreeMap<Action, u64>,
    io_error: Option<String>,
    rows_seen: usize,
    started: Instant,
    started_at: String,
    desired_file: String,
    rollback_unrestorable: Vec<String>,
    pub(super) span: Span,
}

pub struct Run {
    pub(super) mode: Mode,
    pub(super) items: Vec<Item>,
    pub(super) rows: Vec<Row>,
    pub(super) sink: Sink,
}

impl Sink {
    pub(super) fn new(mode: Mode, desired_file: String, rows: usize, settings: &Settings, ts: &str, started_at: String) -> std::io::Result<Sink> {
        let mut reports = ReportSet::create(&settings.report_dir, mode.as_str(), ts)?;
        if mode == Mode::Check {
            // offline and CPU-bound: flush in batches, still on whole records
            reports.set_flush_interval(std::time::Duration::from_millis(100));
        }
        let span = tracing::info_span!("ecbn-sync");
        // the bar only exists when stderr is a terminal (see logging::init)
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg:10} [{bar:40}] {pos}/{len} rows  {elapsed}") {
            span.pb_set_style(&style.progress_chars("=> "));
        }
        span.pb_set_length(rows as u64);
        Ok(Sink {
            mode,
            reports,
            printer: Printer::new(settings.verbosity < 0),
            counts: BTreeMap::new(),
            io_error: None,
            rows_seen: 0,
            started: Instant::now(),
            started_at,
            desired_file,
            rollback_unrestorable: Vec::new(),
            span,
        })
    }

    pub(super) fn count(&self, a: Action) -> u64 {
        self.counts.get(&a).copied().unwrap_or(0)
    }

    /// Report a finished row: its report line, its stdout line, the counts.
    pub(super) fn emit(&mut self, row: &Row, it: &Item, action: Action, message: String) {
        let rep = report_row(row, it, action, message);
        *self.counts.entry(action).or_default() += 1;
        self.rows_seen += 1;
        let who = rep.person;
        match action {
            Action::WouldUpdate | Action::Updated => {
                let to = describe(rep.desired_selected, rep.desired_location_member_id, row);
                let from = describe(rep.current_selected, rep.current_location_member_id, row);
                self.printer.line(&format!("~ {who} {from} -> {to}"));
            }
            Action::SkippedHasDependents => self.printer.line(&format!("! {who} skipped: {}", rep.message)),
            Action::Failed => self.printer.line(&format!("x {who} failed: {}", rep.message)),
            Action::Invalid if self.mode != Mode::Check => {
                self.printer.line(&format!("x {who} invalid (line {}): {}", rep.line, rep.message))
            }
            _ => {}
        }
        if let Err(e) = self.reports.row(&rep)
            && self.io_error.is_none()
        {
            tracing::error!("cannot write the report {}: {e}", self.reports.csv_path.display());
            self.io_error = Some(e.to_string());
        }
        self.span.pb_inc(1);
    }

    /// Turn already reported `valid` rows into `invalid` with a message (line → message).
    pub(super) fn amend_valid_to_invalid(&mut self, fixes: &std::collections::HashMap<usize, String>) {
        if fixes.is_empty() {
            return;
        }
        match self.reports.amend(fixes, Action::Valid, Action::Invalid) {
            Ok(n) => {
                let n = n as u64;
                *self.counts.entry(Action::Valid).or_default() -= n;
                *self.counts.entry(Action::Invalid).or_default() += n;
            }
            Err(e) => {
                tracing::error!("cannot amend the report {}: {e}", self.reports.csv_path.display());
                self.io_error.get_or_insert(e.to_string());
            }
        }
    }

    /// A whole-file error after the report was opened: remove the empty report.
    pub(super) fn discard(self) {
        let _ = std::fs::remove_file(&self.reports.csv_path);
    }

    /// Write the summary JSON and the stdout summary line; returns the exit code.
    pub(super) fn close(mut self, exit_code: i32, stats: Option<crate::webex::Stats>, rerun_needed: bool) -> i32 {
        let exit_code = match self.reports.flush() {
            Err(e) => {
                tracing::error!("cannot write the report: {e}");
                exit::FATAL
            }
            Ok(()) if self.io_error.is_some() => exit::FATAL,
            Ok(()) => exit_code,
        };
        let (_, finished_at) = crate::report::timestamps(SystemTime::now());
        let stats = stats.unwrap_or_default();
        let actions: &[Action] = if self.mode == Mode::Check { &[Action::Valid, Action::Invalid] } else { &Action::RUN };
        let summary = Summary {
            mode: self.mode.as_str().into(),
            started_at: self.started_at.clone(),
            finished_at,
            duration_ms: self.started.elapsed().as_millis() as u64,
            desired_file: self.desired_file.clone(),
            report_files: self.reports.files(),
            rows: self.rows_seen,
            counts: actions.iter().map(|a| (a.as_str(), self.count(*a))).collect(),
            requests: stats.requests,
            http_status: stats.http_status,
            retries: stats.retries,
            rerun_needed,
            rollback_unrestorable: std::mem::take(&mut self.rollback_unrestorable),
            exit_code,
        };
        let exit_code = match crate::report::write_summary(&self.reports.json_path, &summary) {
            Ok(()) => exit_code,
            Err(e) => {
                tracing::error!("cannot write the summary {}: {e}", self.reports.json_path.display());
                exit::FATAL
            }
        };
        self.printer.summary(&summary_line(self.mode, |a| self.count(a)));
        tracing::info!(report = %self.reports.csv_path.display(), summary = %self.reports.json_path.display(), "reports written");
        exit_code
    }
}

/// The report line of a row, from the file and what the run learned.
fn report_row<'a>(r: &'a Row, it: &'a Item, action: Action, message: String) -> RowReport<'a> {
    let d = r.desired();
    let message: std::borrow::Cow<'a, str> = match (message.is_empty(), it.warning.is_empty()) {
        (_, true) => message.into(),
        (true, false) => it.warning.as_str().into(),
        (false, false) => format!("{message}; {}", it.warning).into(),
    };
    RowReport {
        line: r.line,
        person: &r.person_raw,
        person_id: d.and_then(|d| d.person_id.as_deref()).unwrap_or(""),
        action: Some(action),
        current_selected: &it.current_selected,
        current_location_member_id: it.current.as_ref().and_then(|c| c.location_member_id.as_deref()).unwrap_or(""),
        desired_selected: d.map(|d| d.selected.as_str()).unwrap_or(&r.selected_raw),
        desired_location_member_id: d.and_then(|d| d.target_id.as_deref()).unwrap_or(&r.target_raw),
        dependent_member_count: it.dependent_member_count,
        http_status: it.http_status,
        attempts: it.attempts,
        message,
        current_effective_number: &it.effective_number,
        current_effective_quality: &it.effective_quality,
    }
}

impl Run {
    pub fn new(mode: Mode, file: DesiredFile, settings: &Settings, ts: &str, started_at: String) -> std::io::Result<Run> {
        let sink = Sink::new(mode, file.path.display().to_string(), file.rows.len(), settings, ts, started_at)?;
        Ok(Run {
            mode,
            items: file.rows.iter().map(|_| Item::default()).collect(),
            rows: file.rows,
            sink,
        })
    }

    pub fn has_invalid(&self) -> bool {
        self.rows.iter().zip(&self.items).any(|(r, it)| !it.done && matches!(r.status, RowStatus::Invalid(_)))
    }

    pub(super) fn count(&self, a: Action) -> u64 {
        self.sink.count(a)
    }

    pub(super) fn finish(&mut self, i: usize, action: Action, message: impl Into<String>) {
        if self.items[i].done {
            return;
        }
        self.sink.emit(&self.rows[i], &self.items[i], action, message.into());
        // release what a finished row holds
        self.items[i] = Item { done: true, ..Item::default() };
        self.rows[i].release();
    }

    /// Record the request accounting of a call on its row.
    pub(super) fn account<T>(&mut self, i: usize, call: &Call<T>) {
        let it = &mut self.items[i];
        it.attempts += call.attempts;
        if call.status.is_some() {
            it.http_status = call.status;
        }
    }

    pub(super) fn record_current(&mut self, i: usize, get: &EcbnGet) {
        let it = &mut self.items[i];
        it.current_selected = get.selected.clone().unwrap_or_default();
        if let Some(b) = get.effective_block() {
            it.effective_number = b.effective_value.clone().unwrap_or_default();
            it.effective_quality = b.quality.clone().unwrap_or_default();
            it.warning = match (b.quality.as_deref(), b.effective_value.as_deref()) {
                (_, None) => "warning: an emergency callback reaches no number today".to_string(),
                (Some("INVALID"), Some(v)) => format!(
                    "warning: the selected number is not valid; callbacks fall back to {v} ({})",
                    b.effective_level.as_deref().unwrap_or("fallback")
                ),
                (Some("NOT_RECOMMENDED"), _) => "warning: the callback number is NOT_RECOMMENDED".into(),
                _ => String::new(),
            };
        }
        it.current = plan::current(get).ok();
    }

    /// Invalid rows not yet reported.
    pub(super) fn finish_invalid(&mut self) {
        for i in 0..self.items.len() {
            if let RowStatus::Invalid(m) = &self.rows[i].status
                && !self.items[i].done
            {
                let m = m.clone();
                self.finish(i, Action::Invalid, m);
            }
        }
    }

    /// Rows whose resolution failed for a reason outside the file: `failed`.
    pub(super) fn finish_unresolved(&mut self) {
        for i in 0..self.items.len() {
            if let RowStatus::Unresolved(m) = &self.rows[i].status {
                let m = m.clone();
                self.finish(i, Action::Failed, m);
            }
        }
    }

    /// Every row not finished yet: invalid ones `invalid`, the others `not_attempted`.
    pub(super) fn finish_rest(&mut self, why: &str) {
        self.finish_invalid();
        for i in 0..self.items.len() {
            if !self.items[i].done {
                self.finish(i, Action::NotAttempted, why.to_string());
            }
        }
    }

    pub(super) fn print_invalid_to_stderr(&self) {
        for (r, _) in self.rows.iter().zip(&self.items).filter(|(_, it)| !it.done) {
            if let RowStatus::Invalid(m) = &r.status {
                crate::logging::diag(&format!("{}:{}: {m}", self.sink.desired_file, r.line));
            }
        }
    }

    /// Append the previous value to the rollback file before the PUT; false when it
    /// cannot be recorded (the PUT is then not sent).
    pub(super) fn record_rollback(&mut self, i: usize) -> bool {
        let person_id = self.rows[i].desired().and_then(|d| d.person_id.clone()).unwrap_or_default();
        let Some(cur) = &self.items[i].current else { return false };
        if cur.selected == Selected::None {
            self.sink.rollback_unrestorable.push(person_id);
            return true;
        }
        let member = cur.location_member_id.clone().unwrap_or_default();
        match self.sink.reports.rollback(&person_id, cur.selected.as_str(), &member) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("cannot write the rollback file: {e}; not writing");
                self.sink.io_error.get_or_insert(e.to_string());
                false
            }
        }
    }

    /// Abort before any API request (bad file): reports, exit 65.
    pub fn refuse_invalid(mut self) -> i32 {
        self.print_invalid_to_stderr();
        self.finish_rest("not attempted: the file has invalid rows; nothing was sent");
        self.close(exit::DATA, None, false)
    }

    /// Token missing or unreadable after the file was read.
    pub fn refuse_token(mut self, message: &str) -> i32 {
        self.finish_rest(&format!("not attempted: {message}"));
        self.close(exit::CONFIG, None, false)
    }

    /// Finish every row left and write the summary; returns the exit code.
    pub fn close(mut self, exit_code: i32, stats: Option<crate::webex::Stats>, rerun_needed: bool) -> i32 {
        self.finish_rest("not attempted: the run stopped");
        self.sink.close(exit_code, stats, rerun_needed)
    }
}

/// `Plan: 3 to update, 10 in sync, 1 skipped, 0 invalid, 0 failed.` and its siblings.
pub fn summary_line(mode: Mode, c: impl Fn(Action) -> u64) -> String {
    let line = match mode {
        Mode::Check => return format!("Check: {} valid, {} invalid.", c(Action::Valid), c(Action::Invalid)),
        Mode::Plan => format!(
            "Plan: {} to update, {} in sync, {} skipped, {} invalid, {} failed",
            c(Action::WouldUpdate), c(Action::InSync), c(Action::SkippedHasDependents), c(Action::Invalid), c(Action::Failed)
        ),
        Mode::Apply => format!(
            "Apply: {} updated, {} in sync, {} skipped, {} invalid, {} failed",
            c(Action::Updated), c(Action::InSync), c(Action::SkippedHasDependents), c(Action::Invalid), c(Action::Failed)
        ),
    };
    match c(Action::NotAttempted) {
        0 => format!("{line}."),
        n => format!("{line}; {n} not attempted."),
    }
}

/// `LOCATION_MEMBER_NUMBER(target)` for stdout lines, showing the target as written.
fn describe(selected: &str, member: &str, row: &Row) -> String {
    if selected == "LOCATION_MEMBER_NUMBER" && !member.is_empty() {
        let d = row.desired();
        let as_written = matches!(d.and_then(|d| d.target.as_ref()), Some(TargetRef::Email(_) | TargetRef::Phone(_)))
            && d.and_then(|d| d.target_id.as_deref()) == Some(member);
        format!("{selected}({})", if as_written { &row.target_raw } else { member })
    } else if selected.is_empty() {
        "?".into()
    } else {
        selected.to_string()
    }
}
