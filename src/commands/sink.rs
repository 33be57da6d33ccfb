//! Where finished rows go: the row report, the stdout line, the counts, the progress
//! bar; and the close of a run, which writes the summary.

use super::{Mode, Stamp};
use crate::config::Settings;
use crate::error::{Error, Outcome};
use crate::ids::{Kind, WebexId};
use crate::report::html::{self, ByLocation};
use crate::report::{self, Action, Printer, Recorder, ReportSet, RowLine, Summary};
use crate::row::{Differs, Forecast, QUALITY_KEYS, Row, Stage, Verdict, Written};
use crate::webex::{LatencyReport, Rate, RateReport, Stats};
use crate::wire::Selected;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::SystemTime;
use tracing::Span;

mod stdout;

use stdout::{Labels, describe, labels, summary_line};
use tracing_indicatif::span_ext::IndicatifSpanExt;

/// How many failed or invalid rows the notification quotes.
const PROBLEMS_KEPT: usize = 5;

pub(crate) struct Sink {
    mode: Mode,
    reports: ReportSet,
    printer: Printer,
    counts: BTreeMap<Action, u64>,
    counts_by_kind: BTreeMap<(Kind, Action), u64>,
    /// The rows read, by the key of their prediction (`QUALITY_KEYS`).
    predicted: BTreeMap<&'static str, u64>,
    /// The first report write that failed: the run ends with exit 1.
    io_error: Option<Error>,
    rows: usize,
    stamp: Stamp,
    desired_file: String,
    rollback_unrestorable: Vec<String>,
    /// `--html`: the counts per location, for the page.
    html: Option<ByLocation>,
    /// The first rows that failed or were invalid, for the notification.
    problems: Vec<String>,
    recorder: Recorder,
    /// How the run is paced, for a summary written before any request.
    rate: Rate,
    span: Span,
}

impl Sink {
    pub(crate) fn create(
        mode: Mode,
        desired: &Path,
        rows: usize,
        s: &Settings,
        stamp: &Stamp,
        recorder: &Recorder,
    ) -> Result<Sink, Error> {
        let mut reports = ReportSet::create(&s.report_dir, mode.as_str(), &stamp.file)
            .map_err(|source| Error::Storage { path: s.report_dir.display().to_string(), source })?;
        if mode == Mode::Check {
            // offline and CPU-bound: flush in batches, still on whole records
            reports.set_flush_interval(std::time::Duration::from_millis(100));
        }
        let span = tracing::info_span!("ecbn-sync");
        // the bar only exists when stderr is a terminal (see logging::init)
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {msg:10} [{bar:40}] {pos}/{len} rows  {elapsed}")
        {
            span.pb_set_style(&style.progress_chars("=> "));
        }
        span.pb_set_length(rows as u64);
        Ok(Sink {
            mode,
            reports,
            printer: Printer::new(s.verbosity < 0, s.log_format == crate::cli::LogFormat::Json),
            counts: BTreeMap::new(),
            counts_by_kind: BTreeMap::new(),
            predicted: BTreeMap::new(),
            io_error: None,
            rows: 0,
            stamp: stamp.clone(),
            desired_file: desired.display().to_string(),
            rollback_unrestorable: Vec::new(),
            html: s.html.then(ByLocation::new),
            problems: Vec::new(),
            recorder: recorder.clone(),
            rate: s.rate,
            span,
        })
    }

    /// The progress span: entered while the run works, so log lines lift the bar.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    /// The phase the progress bar shows.
    pub(crate) fn phase(&self, name: &str) {
        self.span.pb_set_message(name);
    }

    pub(crate) fn count(&self, a: Action) -> u64 {
        self.counts.get(&a).copied().unwrap_or(0)
    }

    pub(crate) fn desired_file(&self) -> &str {
        &self.desired_file
    }

    /// A finished row: its report line, its stdout line, the counts.
    pub(crate) fn finish<S: Stage>(&mut self, row: Row<S>, verdict: Verdict) {
        let action = verdict.action();
        let wish = row.stage.wish();
        let read = row.trail.read.as_ref();
        // a change is warned about the number it will give, any other row about today's
        let forecast = match (action.is_change(), wish.selected, read) {
            (true, Some(selected), Some(r)) => r.predicted.warning(selected),
            _ => None,
        };
        let warning = match &forecast {
            Some(f) => Some(format!("warning: {f}")),
            None if action.is_change() => None,
            None => read.and_then(|r| r.warning.as_ref()).map(ToString::to_string),
        };
        let mut message: Cow<'_, str> = verdict.message().into();
        if let Some(w) = warning {
            message = if message.is_empty() { w.into() } else { format!("{message}; {w}").into() };
        }
        debug_assert!(
            row.written != Written::Wished || wish.member_id.is_some(),
            "line {}: the row's cells went with its wish",
            row.line
        );
        let [member, selected, target] = row.written.cells(&wish);
        let current_member = read.and_then(|r| r.current.as_ref()?.member.as_ref()).map(WebexId::spelling);
        let line = RowLine {
            line: row.line,
            member,
            member_id: wish.member_id.as_deref().unwrap_or(""),
            kind: wish.kind.map_or("", Kind::as_str),
            action,
            current_selected: read.map(|r| &*r.selected).unwrap_or(""),
            current_location_member_id: current_member.as_deref().unwrap_or(""),
            desired_selected: wish.selected.map(Selected::as_str).unwrap_or(selected),
            desired_location_member_id: wish.target_id.as_deref().unwrap_or(target),
            dependent_member_count: row.trail.dependents,
            http_status: row.trail.http_status,
            attempts: row.trail.attempts,
            message,
            current_effective_number: read.map(|r| &*r.effective_number).unwrap_or(""),
            current_effective_quality: read.map(|r| &*r.effective_quality).unwrap_or(""),
            desired_effective_number: read.map(|r| &*r.predicted.number).unwrap_or(""),
            desired_effective_quality: read.map(|r| &*r.predicted.quality).unwrap_or(""),
        };
        self.print(&line, &labels(&row, &wish), forecast.as_ref());
        if let Some(locations) = &mut self.html {
            let loc = read.and_then(|r| r.location.as_deref()).unwrap_or("(not read)");
            let counts = match locations.get_mut(loc) {
                Some(c) => c,
                None => locations.entry(loc.into()).or_default(),
            };
            *counts.entry(action).or_default() += 1;
        }
        if matches!(action, Action::Failed | Action::Invalid) && self.problems.len() < PROBLEMS_KEPT {
            self.problems.push(format!("line {} {member}: {}", row.line, line.message));
        }
        if let Some(r) = read {
            *self.predicted.entry(r.predicted.count_key()).or_default() += 1;
        }
        *self.counts.entry(action).or_default() += 1;
        if let Some(kind) = wish.kind {
            *self.counts_by_kind.entry((kind, action)).or_default() += 1;
        }
        self.rows += 1;
        if let Err(source) = self.reports.row(&line)
            && self.io_error.is_none()
        {
            let path = self.reports.csv_path.display().to_string();
            tracing::error!("cannot write the report {path}: {source}");
            self.io_error = Some(Error::Storage { path, source });
        }
        self.span.pb_inc(1);
    }

    /// `~ who FROM -> TO` (and `? who would have …`), `! who skipped: …`, `x who
    /// failed: …`, members named as a person reads them.
    fn print(&self, r: &RowLine<'_>, labels: &Labels, forecast: Option<&Forecast>) {
        let who = &labels.member;
        match r.action {
            a if a.is_change() => {
                let to = describe(r.desired_selected, &labels.target);
                let from = describe(r.current_selected, &labels.current_target);
                self.printer.line(&format!("~ {who} {from} -> {to}"));
                if let Some(f) = forecast {
                    self.printer.line(&format!("? {who} {f}"));
                }
            }
            Action::SkippedHasDependents => self.printer.line(&format!("! {who} skipped: {}", r.message)),
            Action::Failed => self.printer.line(&format!("x {who} failed: {}", r.message)),
            Action::Invalid if self.mode != Mode::Check => {
                self.printer.line(&format!("x {who} invalid (line {}): {}", r.line, r.message))
            }
            _ => {}
        }
    }

    /// The file that could not be written, if any: no PUT may be sent after that, as
    /// its record might be lost.
    pub(crate) fn storage_failure(&self) -> Option<&str> {
        match &self.io_error {
            Some(Error::Storage { path, .. }) => Some(path),
            _ => None,
        }
    }

    /// Make already reported rows `invalid` with a new message (line → message).
    pub(crate) fn amend(&mut self, fixes: &HashMap<u32, String>) {
        if fixes.is_empty() {
            return;
        }
        match self.reports.amend(fixes) {
            Ok(were_valid) => {
                for kind in were_valid {
                    *self.counts.entry(Action::Valid).or_default() -= 1;
                    *self.counts.entry(Action::Invalid).or_default() += 1;
                    if let Some(k) = kind {
                        *self.counts_by_kind.entry((k, Action::Valid)).or_default() -= 1;
                        *self.counts_by_kind.entry((k, Action::Invalid)).or_default() += 1;
                    }
                }
            }
            Err(source) => {
                let path = self.reports.csv_path.display().to_string();
                tracing::error!("cannot amend the report {path}: {source}");
                self.io_error.get_or_insert(Error::Storage { path, source });
            }
        }
    }

    /// Record a member's previous value before its PUT; false when it cannot be
    /// recorded (the PUT is then not sent).
    pub(crate) fn rollback(&mut self, row: &Row<Differs>) -> bool {
        let member = row.stage.want.member.spelling();
        let cur = &row.stage.current;
        let recorded = if cur.selected == Selected::None {
            // the API refuses NONE: this one cannot be restored by the rollback file
            self.rollback_unrestorable.push(member.into_owned());
            self.reports.open_rollback().map(drop)
        } else {
            let target = cur.member.as_ref().map(WebexId::spelling);
            let target = target.as_deref().unwrap_or("");
            self.reports.rollback(&member, cur.selected.as_str(), target, row.stage.want.kind.as_str())
        };
        match recorded {
            Ok(()) => true,
            Err(source) => {
                let path = self.reports.rollback_path.display().to_string();
                tracing::error!("cannot write the rollback file {path}: {source}; not writing");
                self.io_error.get_or_insert(Error::Storage { path, source });
                false
            }
        }
    }

    /// A whole-file error after the report was opened: remove the empty report.
    pub(crate) fn discard(self) {
        let _ = std::fs::remove_file(&self.reports.csv_path);
    }

    /// Write the summary and the stdout summary line; the run's result. A report that
    /// could not be written makes the run end with exit 1.
    pub(crate) fn close(
        mut self,
        end: Result<Outcome, Error>,
        stats: Option<Stats>,
        rerun_needed: bool,
    ) -> Result<Outcome, Error> {
        let flushed = self
            .reports
            .flush()
            .map_err(|source| Error::Storage { path: self.reports.csv_path.display().to_string(), source });
        let mut end = match (end, self.io_error.take().or(flushed.err())) {
            // an earlier fatal error says more than the storage error it may have caused
            (Err(e), _) if e.exit_code() == 1 => Err(e),
            (_, Some(storage)) => Err(storage),
            (end, None) => end,
        };
        let stats = stats.unwrap_or_else(|| Stats { rate: RateReport::unsent(self.rate), ..Stats::default() });
        let actions: &[Action] =
            if self.mode == Mode::Check { &[Action::Valid, Action::Invalid] } else { &Action::RUN };
        let html_path = self.html.is_some().then(|| self.reports.csv_path.with_extension("html"));
        let mut report_files = self.reports.files();
        report_files.extend(html_path.iter().map(|p| p.display().to_string()));
        let mut summary = Summary {
            mode: self.mode.as_str(),
            started_at: self.stamp.iso.clone(),
            finished_at: report::timestamps(SystemTime::now()).1,
            duration_ms: self.stamp.started.elapsed().as_millis() as u64,
            desired_file: self.desired_file.clone(),
            report_files,
            rows: self.rows,
            counts: actions.iter().map(|a| (a.as_str(), self.count(*a))).collect(),
            counts_by_kind: Kind::ALL
                .iter()
                .map(|&k| {
                    let n = |a: &Action| self.counts_by_kind.get(&(k, *a)).copied().unwrap_or(0);
                    (k.as_str(), actions.iter().map(|a| (a.as_str(), n(a))).collect())
                })
                .collect(),
            predicted_quality: (self.mode != Mode::Check)
                .then(|| QUALITY_KEYS.iter().map(|&k| (k, self.predicted.get(k).copied().unwrap_or(0))).collect()),
            requests: stats.requests,
            http_status: stats.http_status,
            retries: stats.retries,
            rate: stats.rate,
            in_flight: stats.in_flight,
            latency_ms: LatencyReport::of(&stats.latency),
            rerun_needed,
            rollback_unrestorable: std::mem::take(&mut self.rollback_unrestorable),
            exit_code: crate::error::exit_code(&end),
        };
        if let (Some(path), Some(locations)) = (&html_path, &self.html)
            && let Err(source) = html::write(path, &summary, &self.reports.csv_path, locations)
        {
            let shown = path.display().to_string();
            tracing::error!("cannot write the page {shown}: {source}");
            summary.report_files.retain(|f| *f != shown);
            if crate::error::exit_code(&end) != 1 {
                end = Err(Error::Storage { path: shown, source });
            }
            summary.exit_code = crate::error::exit_code(&end);
        }
        self.recorder.record(&summary, std::mem::take(&mut self.problems));
        match report::write_summary(&self.reports.json_path, &summary) {
            Ok(()) => {
                let (report, json) = (self.reports.csv_path.display(), self.reports.json_path.display());
                tracing::info!(report = %report, summary = %json, "reports written");
            }
            Err(source) => {
                let path = self.reports.json_path.display().to_string();
                // never a line saying it was written; the run's first error stays its error
                tracing::error!("cannot write the summary {path}: {source}");
                if crate::error::exit_code(&end) != 1 {
                    end = Err(Error::Storage { path, source });
                }
            }
        }
        self.printer.summary(&summary_line(self.mode, |a| self.count(a)));
        end
    }
}
