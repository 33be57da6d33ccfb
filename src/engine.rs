//! The reconciliation job: validate → resolve → read phase → skip rule → write phase →
//! reports. Owns the worker pool (bounded streams over the one transport), cancellation
//! and the report sink; every decision comes from `plan`.

use crate::config::Settings;
use crate::desired::{self, DesiredFile, Row, RowStatus, TargetRef};
use crate::plan::{self, Diff, Skip};
use crate::report::{Action, Printer, ReportSet, RowReport, Summary};
use crate::webex::{ApiError, Call, Client};
use crate::wire::{EcbnGet, EcbnPut, Selected};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};
use tracing::Span;
use tracing_indicatif::span_ext::IndicatifSpanExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    Plan,
    Apply,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Check => "check",
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        }
    }
}

/// Exit codes (DESIGN.md).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FATAL: i32 = 1;
    pub const CHANGES: i32 = 2;
    pub const PARTIAL: i32 = 3;
    pub const USAGE: i32 = 64;
    pub const DATA: i32 = 65;
    pub const GUARD: i32 = 69;
    pub const LOCKED: i32 = 75;
    pub const CONFIG: i32 = 78;
    pub const INTERRUPTED: i32 = 130;
}

/// Per-row working state.
struct Item {
    rep: RowReport,
    get: Option<EcbnGet>,
    cur: Option<plan::Current>,
    done: bool,
}

/// Everything a run accumulates, and the sink rows are streamed to.
pub struct Run {
    mode: Mode,
    items: Vec<Item>,
    rows: Vec<Row>,
    reports: ReportSet,
    printer: Printer,
    counts: BTreeMap<Action, u64>,
    started: Instant,
    started_at: String,
    desired_file: String,
    io_error: Option<String>,
    rollback_unrestorable: Vec<String>,
    span: Span,
}

impl Run {
    pub fn new(mode: Mode, file: DesiredFile, settings: &Settings, ts: &str, started_at: String) -> std::io::Result<Run> {
        let reports = ReportSet::create(&settings.report_dir, mode.as_str(), ts)?;
        let items = file
            .rows
            .iter()
            .map(|r| Item {
                rep: RowReport {
                    line: r.line,
                    person: r.person_raw.clone(),
                    desired_selected: r.selected_raw.clone(),
                    desired_location_member_id: r.target_raw.clone(),
                    ..Default::default()
                },
                get: None,
                cur: None,
                done: false,
            })
            .collect();
        let span = tracing::info_span!("ecbn-sync");
        span.pb_set_length(file.rows.len() as u64);
        Ok(Run {
            mode,
            items,
            rows: file.rows,
            reports,
            printer: Printer::new(settings.verbosity < 0),
            counts: BTreeMap::new(),
            started: Instant::now(),
            started_at,
            desired_file: file.path.display().to_string(),
            io_error: None,
            rollback_unrestorable: Vec::new(),
            span,
        })
    }

    /// Sync the report's identity columns with the (possibly resolved) rows.
    fn refresh_identity(&mut self) {
        for (it, r) in self.items.iter_mut().zip(&self.rows) {
            if let Some(d) = r.desired() {
                it.rep.person_id = d.person_id.clone().unwrap_or_default();
                it.rep.desired_selected = d.selected.as_str().to_string();
                it.rep.desired_location_member_id = d.target_id.clone().unwrap_or_else(|| r.target_raw.clone());
            }
        }
    }

    fn finish(&mut self, i: usize, action: Action, message: impl Into<String>) {
        let it = &mut self.items[i];
        if it.done {
            return;
        }
        it.done = true;
        it.rep.action = Some(action);
        let msg: String = message.into();
        if !msg.is_empty() {
            it.rep.message = if it.rep.message.is_empty() { msg } else { format!("{msg}; {}", it.rep.message) };
        }
        *self.counts.entry(action).or_default() += 1;
        let who = &it.rep.person;
        match action {
            Action::WouldUpdate | Action::Updated => {
                let to = describe(&it.rep.desired_selected, &it.rep.desired_location_member_id, &self.rows[i]);
                let from = describe(&it.rep.current_selected, &it.rep.current_location_member_id, &self.rows[i]);
                self.printer.line(&format!("~ {who} {from} -> {to}"));
            }
            Action::SkippedHasDependents => self.printer.line(&format!("! {who} skipped: {}", it.rep.message)),
            Action::Failed => self.printer.line(&format!("x {who} failed: {}", it.rep.message)),
            Action::Invalid if self.mode != Mode::Check => {
                self.printer.line(&format!("x {who} invalid (line {}): {}", it.rep.line, it.rep.message))
            }
            _ => {}
        }
        if let Err(e) = self.reports.row(&it.rep)
            && self.io_error.is_none()
        {
            tracing::error!("cannot write the report {}: {e}", self.reports.csv_path.display());
            self.io_error = Some(e.to_string());
        }
        self.span.pb_inc(1);
    }

    fn count(&self, a: Action) -> u64 {
        self.counts.get(&a).copied().unwrap_or(0)
    }

    /// Record the request accounting of a call on its row.
    fn account<T>(&mut self, i: usize, call: &Call<T>) {
        let rep = &mut self.items[i].rep;
        rep.attempts += call.attempts;
        if call.status.is_some() {
            rep.http_status = call.status;
        }
    }

    /// Rows not yet finished become `not_attempted`; invalid rows `invalid`.
    fn finish_rest(&mut self, why: &str) {
        for i in 0..self.items.len() {
            if self.items[i].done {
                continue;
            }
            match &self.rows[i].status {
                RowStatus::Invalid(m) => {
                    let m = m.clone();
                    self.finish(i, Action::Invalid, m)
                }
                RowStatus::Valid(_) => self.finish(i, Action::NotAttempted, why.to_string()),
            }
        }
    }

    fn finish_invalid(&mut self) {
        for i in 0..self.items.len() {
            if let RowStatus::Invalid(m) = &self.rows[i].status
                && !self.items[i].done
            {
                let m = m.clone();
                self.finish(i, Action::Invalid, m);
            }
        }
    }

    fn print_invalid_to_stderr(&self) {
        for r in &self.rows {
            if let RowStatus::Invalid(m) = &r.status {
                eprintln!("{}:{}: {m}", self.desired_file, r.line);
            }
        }
    }

    /// Write the summary JSON and the stdout summary line; returns the exit code.
    pub fn close(mut self, exit_code: i32, stats: Option<crate::webex::Stats>, rerun_needed: bool) -> i32 {
        self.finish_rest("not attempted: the run stopped");
        let exit_code = if self.io_error.is_some() { exit::FATAL } else { exit_code };
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
            rows: self.items.len(),
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
        let c = |a| self.count(a);
        let line = match self.mode {
            Mode::Check => format!("Check: {} valid, {} invalid.", c(Action::Valid), c(Action::Invalid)),
            Mode::Plan => format!(
                "Plan: {} to update, {} in sync, {} skipped, {} invalid, {} failed.",
                c(Action::WouldUpdate), c(Action::InSync), c(Action::SkippedHasDependents), c(Action::Invalid), c(Action::Failed)
            ),
            Mode::Apply => format!(
                "Apply: {} updated, {} in sync, {} skipped, {} invalid, {} failed.",
                c(Action::Updated), c(Action::InSync), c(Action::SkippedHasDependents), c(Action::Invalid), c(Action::Failed)
            ),
        };
        let na = c(Action::NotAttempted);
        let line = if na > 0 && self.mode != Mode::Check {
            format!("{} {na} not attempted.", line.trim_end_matches('.').to_string() + ";")
        } else {
            line
        };
        self.printer.summary(&line);
        tracing::info!(report = %self.reports.csv_path.display(), summary = %self.reports.json_path.display(), "reports written");
        exit_code
    }
}

/// `LOCATION_MEMBER_NUMBER(target)` for stdout lines.
fn describe(selected: &str, member: &str, row: &Row) -> String {
    if selected == "LOCATION_MEMBER_NUMBER" && !member.is_empty() {
        // show the target as the user wrote it when it is in the file
        let shown = match row.desired().and_then(|d| d.target.as_ref()) {
            Some(TargetRef::Email(_) | TargetRef::Phone(_)) if row.desired().and_then(|d| d.target_id.as_deref()) == Some(member) => &row.target_raw,
            _ => member,
        };
        format!("{selected}({shown})")
    } else if selected.is_empty() {
        "?".into()
    } else {
        selected.to_string()
    }
}

/// `check`: offline validation.
pub fn check(file: DesiredFile, settings: &Settings, ts: &str, started_at: String) -> std::io::Result<i32> {
    let mut file = file;
    plan::cross_check(&mut file.rows);
    let mut run = Run::new(Mode::Check, file, settings, ts, started_at)?;
    run.refresh_identity();
    run.print_invalid_to_stderr();
    for i in 0..run.items.len() {
        match run.rows[i].status.clone() {
            RowStatus::Valid(_) => run.finish(i, Action::Valid, ""),
            RowStatus::Invalid(m) => run.finish(i, Action::Invalid, m),
        }
    }
    let invalid = run.count(Action::Invalid) > 0;
    let code = match (invalid, settings.skip_invalid) {
        (false, _) => exit::OK,
        (true, true) => exit::PARTIAL,
        (true, false) => exit::DATA,
    };
    Ok(run.close(code, None, false))
}

/// What stopped a run early.
fn stop_code(client: &Client, interrupted: bool) -> Option<i32> {
    if client.transport().fatal().is_some() {
        Some(exit::FATAL)
    } else if interrupted || client.transport().stopped() {
        Some(exit::INTERRUPTED)
    } else {
        None
    }
}

/// Abort before any API request (bad file): reports, exit 65.
pub fn refuse_invalid(mut run: Run) -> i32 {
    run.print_invalid_to_stderr();
    run.finish_invalid();
    run.finish_rest("not attempted: the file has invalid rows; nothing was sent");
    run.close(exit::DATA, None, false)
}

impl Run {
    pub fn has_invalid(&self) -> bool {
        self.rows.iter().any(|r| !r.is_valid())
    }

    /// Token missing or unreadable after the file was read.
    pub fn refuse_token(mut self, message: &str) -> i32 {
        self.finish_invalid();
        self.finish_rest(&format!("not attempted: {message}"));
        self.close(exit::CONFIG, None, false)
    }
}

/// `plan` and `apply` after the file was read and found sound (or `--skip-invalid`).
pub async fn reconcile(mut run: Run, client: Client, settings: &Settings, interrupt: tokio_util::sync::CancellationToken) -> i32 {
    let conc = settings.concurrency;
    let _enter = run.span.clone().entered();
    // 1. resolution of emails and phone numbers, then cross-row checks once more
    run.span.pb_set_message("resolving");
    crate::resolve::resolve(&client, &mut run.rows, conc).await;
    plan::cross_check(&mut run.rows);
    run.refresh_identity();
    if let Some(code) = stop_code(&client, interrupt.is_cancelled()) {
        let stats = client.transport().stats();
        return run.close(code, Some(stats), false);
    }
    if run.has_invalid() {
        if !settings.skip_invalid {
            run.print_invalid_to_stderr();
            run.finish_invalid();
            run.finish_rest("not attempted: rows of the file could not be resolved; nothing was written");
            let stats = client.transport().stats();
            return run.close(exit::DATA, Some(stats), false);
        }
        run.print_invalid_to_stderr();
        run.finish_invalid();
    }

    // 2. read phase: every valid row's current ECBN
    run.span.pb_set_message("reading");
    let reads: Vec<(usize, String)> = run
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.desired()?.person_id.clone()?)))
        .collect();
    {
        let c = &client;
        let mut s = futures_util::stream::iter(reads)
            .map(|(i, pid)| async move { (i, c.get_ecbn(&pid).await) })
            .buffer_unordered(conc);
        while let Some((i, call)) = s.next().await {
            run.account(i, &call);
            match call.result {
                Ok(get) => run.record_current(i, get),
                Err(ApiError::Cancelled) => {}
                Err(e) => run.finish(i, Action::Failed, e.to_string()),
            }
        }
    }
    if let Some(code) = stop_code(&client, interrupt.is_cancelled()) {
        let stats = client.transport().stats();
        return run.close(code, Some(stats), false);
    }

    // 3. diff, in-file rule, dependencies of the others
    let targets = plan::in_file_targets(&run.rows);
    let mut need_deps = Vec::new();
    for i in 0..run.items.len() {
        if run.items[i].done {
            continue;
        }
        let (Some(d), Some(get)) = (run.rows[i].desired(), run.items[i].get.as_ref()) else { continue };
        match plan::diff(d, get) {
            Diff::InSync => run.finish(i, Action::InSync, ""),
            Diff::Unknown(m) => run.finish(i, Action::Failed, m),
            Diff::Differs => match plan::skip_in_file(d, &targets) {
                Some(skip) => run.finish(i, Action::SkippedHasDependents, skip.message()),
                None => need_deps.push((i, d.person_id.clone().unwrap_or_default())),
            },
        }
    }
    let mut to_update = Vec::new();
    let mut skipped_for_dependents: Vec<String> = Vec::new();
    {
        let c = &client;
        let mut s = futures_util::stream::iter(need_deps)
            .map(|(i, pid)| async move { (i, c.get_dependencies(&pid).await) })
            .buffer_unordered(conc);
        while let Some((i, call)) = s.next().await {
            run.account(i, &call);
            match call.result {
                Ok(deps) => {
                    run.items[i].rep.dependent_member_count = Some(deps.dependent_member_count);
                    match plan::skip_by_dependencies(&deps) {
                        Some(skip) => {
                            if matches!(skip, Skip::Dependents(_)) {
                                skipped_for_dependents.push(run.items[i].rep.person_id.clone());
                            }
                            run.finish(i, Action::SkippedHasDependents, skip.message());
                        }
                        None => to_update.push(i),
                    }
                }
                Err(ApiError::Cancelled) => {}
                Err(e) => run.finish(i, Action::Failed, e.to_string()),
            }
        }
    }
    to_update.sort_unstable(); // file order, for --limit
    let moved_away: Vec<String> = to_update
        .iter()
        .map(|&i| run.items[i].rep.current_location_member_id.clone())
        .filter(|m| !m.is_empty())
        .collect();
    let rerun_needed = plan::rerun_needed(
        skipped_for_dependents.iter().map(String::as_str),
        moved_away.iter().map(String::as_str),
    );
    if let Some(code) = stop_code(&client, interrupt.is_cancelled()) {
        let stats = client.transport().stats();
        return run.close(code, Some(stats), rerun_needed);
    }

    // 4. guards
    if let Some(max) = settings.max_changes
        && to_update.len() as u64 > max
    {
        let why = format!("{} changes exceed --max-changes {max}; nothing was written", to_update.len());
        tracing::error!("{why}");
        for &i in &to_update {
            let a = if run.mode == Mode::Plan { Action::WouldUpdate } else { Action::NotAttempted };
            run.finish(i, a, why.clone());
        }
        let stats = client.transport().stats();
        return run.close(exit::GUARD, Some(stats), rerun_needed);
    }
    if run.mode == Mode::Plan {
        for &i in &to_update {
            run.finish(i, Action::WouldUpdate, "");
        }
        let code = base_code(&run, settings);
        let stats = client.transport().stats();
        return run.close(code, Some(stats), rerun_needed);
    }

    // 5. write phase
    run.span.pb_set_message("writing");
    let limit = settings.limit.map(|k| k as usize).unwrap_or(usize::MAX);
    if to_update.len() > limit {
        for &i in &to_update[limit..] {
            run.finish(i, Action::NotAttempted, format!("not written: --limit {limit} reached"));
        }
        to_update.truncate(limit);
    }
    let failures_cap = settings.max_failures;
    let mut write_failures = 0u64;
    let mut capped = false;
    let mut writes: Vec<(usize, String, EcbnPut)> = Vec::new();
    for &i in &to_update {
        let Some(d) = run.rows[i].desired() else { continue };
        let body = EcbnPut {
            selected: Some(d.selected.as_str().into()),
            location_member_id: (d.selected == Selected::LocationMemberNumber).then(|| d.target_id.clone().unwrap_or_default()),
            ..Default::default()
        };
        writes.push((i, d.person_id.clone().unwrap_or_default(), body));
    }
    // a hand-rolled pool rather than `buffer_unordered`: the rollback line must be
    // written (here, with `run` borrowed mutably) before each PUT future exists
    let mut queue = writes.into_iter();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let mut first = true;
    loop {
        // the first PUT goes alone: a token without the write scope costs one request
        let room = if first { 1 } else { conc };
        while in_flight.len() < room && !capped && !client.transport().stopped() {
            let Some((i, pid, body)) = queue.next() else { break };
            if !run.record_rollback(i) {
                run.finish(i, Action::Failed, "not written: the rollback file cannot be written");
                continue;
            }
            let c = &client;
            in_flight.push(async move { (i, c.put_ecbn(&pid, &body).await) });
        }
        let Some((i, call)) = in_flight.next().await else { break };
        first = false;
        run.account(i, &call);
        match call.result {
            Ok(()) => run.finish(i, Action::Updated, ""),
            Err(ApiError::Cancelled) => {}
            Err(e) => {
                run.finish(i, Action::Failed, e.to_string());
                write_failures += 1;
                if failures_cap.is_some_and(|n| write_failures >= n) && !capped {
                    capped = true;
                    tracing::error!("{write_failures} writes failed: --max-failures reached, stopping the write phase");
                }
            }
        }
    }
    if capped {
        run.finish_rest("not attempted: --max-failures reached");
    }
    let code = stop_code(&client, interrupt.is_cancelled()).unwrap_or_else(|| base_code(&run, settings));
    let stats = client.transport().stats();
    run.close(code, Some(stats), rerun_needed)
}

/// The exit code of a run that finished: 3 when rows failed or were invalid, 2 for a
/// plan with changes under --detailed-exitcode.
fn base_code(run: &Run, settings: &Settings) -> i32 {
    if run.count(Action::Failed) > 0 || run.count(Action::Invalid) > 0 {
        exit::PARTIAL
    } else if run.mode == Mode::Plan && settings.detailed_exitcode && run.count(Action::WouldUpdate) > 0 {
        exit::CHANGES
    } else {
        exit::OK
    }
}

impl Run {
    fn record_current(&mut self, i: usize, get: EcbnGet) {
        let it = &mut self.items[i];
        it.rep.current_selected = get.selected.clone().unwrap_or_default();
        if let Some(b) = get.effective_block() {
            it.rep.current_effective_number = b.effective_value.clone().unwrap_or_default();
            it.rep.current_effective_quality = b.quality.clone().unwrap_or_default();
            let warn = match (b.quality.as_deref(), b.effective_value.as_deref()) {
                (_, None) => Some("warning: an emergency callback reaches no number today".to_string()),
                (Some("INVALID"), Some(v)) => Some(format!(
                    "warning: the selected number is not valid; callbacks fall back to {v} ({})",
                    b.effective_level.as_deref().unwrap_or("fallback")
                )),
                (Some("NOT_RECOMMENDED"), _) => Some("warning: the callback number is NOT_RECOMMENDED".into()),
                _ => None,
            };
            if let Some(w) = warn {
                it.rep.message = w;
            }
        }
        match plan::current(&get) {
            Ok(c) => {
                it.rep.current_location_member_id = c.location_member_id.clone().unwrap_or_default();
                it.cur = Some(c);
            }
            Err(_) => it.cur = None,
        }
        it.get = Some(get);
    }

    /// Append the previous value to the rollback file before the PUT; false when it
    /// cannot be recorded (the PUT is then not sent).
    fn record_rollback(&mut self, i: usize) -> bool {
        let it = &self.items[i];
        let Some(cur) = &it.cur else { return false };
        if cur.selected == Selected::None {
            self.rollback_unrestorable.push(it.rep.person_id.clone());
            return true;
        }
        let member = cur.location_member_id.clone().unwrap_or_default();
        match self.reports.rollback(&it.rep.person_id, cur.selected.as_str(), &member) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("cannot write the rollback file: {e}; not writing");
                self.io_error.get_or_insert(e.to_string());
                false
            }
        }
    }
}

/// Read the desired file with the run's options.
pub fn read_desired(path: &std::path::Path, settings: &Settings) -> Result<DesiredFile, desired::FileError> {
    desired::read(
        path,
        &desired::ReadOptions {
            default_country: settings.default_country.clone(),
            sheet: settings.sheet.clone(),
        },
    )
}
