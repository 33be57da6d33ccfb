//! The reconciliation job: validate → resolve → read phase → skip rule → write phase →
//! reports. Owns the worker pool (bounded streams over the one transport), cancellation
//! and the report sink; every decision comes from `plan`.

mod run;

pub use run::{Run, summary_line};

use crate::config::Settings;
use crate::desired::{self, DesiredFile, RowStatus};
use crate::plan::{self, Diff, Skip};
use crate::report::Action;
use crate::webex::{ApiError, Client};
use crate::wire::{EcbnPut, Selected};
use futures_util::StreamExt;
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;
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

/// Read the desired file with the run's options.
pub fn read_desired(path: &std::path::Path, settings: &Settings) -> Result<DesiredFile, desired::FileError> {
    desired::read(path, &settings.read_options())
}

/// Rows handed from the reader thread to the writer at a time.
const CHECK_BATCH: usize = 8192;

/// A 64-bit fingerprint of a row's identity, so duplicates among millions of rows are
/// found in a few tens of MB. A false match (about n²/2^65: 3·10^-8 for a million
/// rows) could only make `check` call a row a duplicate, never write anything;
/// `plan`/`apply` compare the identities themselves.
fn fingerprint(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// `check`: offline validation in one streamed pass, so a file of millions of rows
/// never sits in memory. A duplicate is seen at its second row; the first one, already
/// reported `valid`, is amended in the report at the end (duplicates are rare).
pub fn check(path: &std::path::Path, settings: &Settings, ts: &str, started_at: String) -> Result<i32, CheckError> {
    let opts = settings.read_options();
    let shown = path.display().to_string();
    let mut sink = run::Sink::new(Mode::Check, shown.clone(), 0, settings, ts, started_at).map_err(CheckError::Reports)?;
    // identity fingerprint → first line; lines of repeated ones
    let mut first: HashMap<u64, u32> = HashMap::new();
    let mut repeated: HashMap<u64, Vec<u32>> = HashMap::new();
    let item = run::Item::default();
    // two cores: one thread parses and validates, this one checks identities and writes
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<desired::Row>>(4);
    let streamed = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut batch = Vec::with_capacity(CHECK_BATCH);
            let tx = tx;
            let r = desired::stream(path, &opts, |row| {
                batch.push(row);
                if batch.len() == CHECK_BATCH {
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(CHECK_BATCH)));
                }
            });
            let _ = tx.send(batch);
            r
        });
        for batch in rx {
            for mut r in batch {
                if let Some(k) = r.desired().and_then(plan::identity_key) {
                    let k = fingerprint(&k);
                    let line = r.line as u32;
                    match first.get(&k) {
                        None => {
                            first.insert(k, line);
                        }
                        Some(&f) => {
                            let lines = repeated.entry(k).or_insert_with(|| vec![f]);
                            lines.push(line);
                            r.invalidate(plan::duplicate_message(r.line, lines.iter().map(|&l| l as usize)));
                        }
                    }
                }
                match &r.status {
                    RowStatus::Valid(_) => sink.emit(&r, &item, Action::Valid, String::new()),
                    // `check` resolves nothing: a row is valid or invalid
                    RowStatus::Invalid(m) | RowStatus::Unresolved(m) => {
                        crate::logging::diag(&format!("{shown}:{}: {m}", r.line));
                        let m = m.clone();
                        sink.emit(&r, &item, Action::Invalid, m)
                    }
                }
            }
        }
        reader.join().unwrap_or_else(|_| Err(desired::FileError::Malformed { path: shown.clone(), line: 0, message: "the reader failed".into() }))
    });
    if let Err(e) = streamed {
        sink.discard();
        return Err(e.into());
    }
    drop(first);
    // first rows of repeated people: amend their report lines
    let amend: HashMap<usize, String> = repeated
        .values()
        .map(|lines| {
            let first = lines[0] as usize;
            (first, plan::duplicate_message(first, lines.iter().map(|&l| l as usize)))
        })
        .collect();
    drop(repeated);
    for (line, m) in &amend {
        crate::logging::diag(&format!("{shown}:{line}: {m}"));
    }
    sink.amend_valid_to_invalid(&amend);
    let code = match (sink.count(Action::Invalid) > 0, settings.skip_invalid) {
        (false, _) => exit::OK,
        (true, true) => exit::PARTIAL,
        (true, false) => exit::DATA,
    };
    Ok(sink.close(code, None, false))
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    File(#[from] desired::FileError),
    #[error("cannot write reports: {0}")]
    Reports(std::io::Error),
}

/// What stopped a run early.
fn stop_code(client: &Client, interrupt: &CancellationToken) -> Option<i32> {
    if client.transport().fatal().is_some() {
        Some(exit::FATAL)
    } else if interrupt.is_cancelled() || client.transport().stopped() {
        Some(exit::INTERRUPTED)
    } else {
        None
    }
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

/// `plan` and `apply` after the file was read and found sound (or `--skip-invalid`).
pub async fn reconcile(mut run: Run, client: Client, settings: &Settings, interrupt: CancellationToken) -> i32 {
    let conc = settings.concurrency;
    let _enter = run.sink.span.clone().entered();
    let stats = |c: &Client| Some(c.transport().stats());

    // 1. resolution of emails and phone numbers, then the cross-row checks once more
    run.sink.span.pb_set_message("resolving");
    crate::resolve::resolve(&client, &mut run.rows, conc).await;
    plan::cross_check(&mut run.rows);
    run.finish_unresolved();
    if let Some(code) = stop_code(&client, &interrupt) {
        return run.close(code, stats(&client), false);
    }
    if run.has_invalid() {
        run.print_invalid_to_stderr();
        if !settings.skip_invalid {
            run.finish_rest("not attempted: rows of the file could not be resolved; nothing was written");
            return run.close(exit::DATA, stats(&client), false);
        }
        run.finish_invalid();
    }

    // 2. read phase: every valid row's current ECBN, decided as it arrives
    run.sink.span.pb_set_message("reading");
    let targets = plan::in_file_targets(&run.rows);
    let reads: Vec<(usize, String)> = run
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.desired()?.person_id.clone()?)))
        .collect();
    let mut need_deps = Vec::new();
    {
        let c = &client;
        let mut s = futures_util::stream::iter(reads)
            .map(|(i, pid)| async move { let call = c.get_ecbn(&pid).await; (i, pid, call) })
            .buffer_unordered(conc);
        while let Some((i, pid, call)) = s.next().await {
            run.account(i, &call);
            let get = match call.result {
                Ok(get) => get,
                Err(ApiError::Cancelled) => continue,
                Err(e) => {
                    run.finish(i, Action::Failed, e.to_string());
                    continue;
                }
            };
            run.record_current(i, &get);
            let Some(d) = run.rows[i].desired() else { continue };
            match plan::diff(d, &get) {
                Diff::InSync => run.finish(i, Action::InSync, ""),
                Diff::Unknown(m) => run.finish(i, Action::Failed, m),
                Diff::Differs => match plan::skip_in_file(d, &targets) {
                    Some(skip) => run.finish(i, Action::SkippedHasDependents, skip.message()),
                    None => need_deps.push((i, pid)),
                },
            }
        }
    }
    if let Some(code) = stop_code(&client, &interrupt) {
        return run.close(code, stats(&client), false);
    }

    // 3. the skip rule over live dependencies, for the differing rows
    let mut to_update = Vec::new();
    let mut skipped_for_dependents: Vec<String> = Vec::new();
    {
        let c = &client;
        let mut s = futures_util::stream::iter(need_deps)
            .map(|(i, pid)| async move { let call = c.get_dependencies(&pid).await; (i, pid, call) })
            .buffer_unordered(conc);
        while let Some((i, pid, call)) = s.next().await {
            run.account(i, &call);
            match call.result {
                Ok(deps) => {
                    run.items[i].dependent_member_count = Some(deps.dependent_member_count);
                    match plan::skip_by_dependencies(&deps) {
                        Some(skip) => {
                            if matches!(skip, Skip::Dependents(_)) {
                                skipped_for_dependents.push(pid);
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
        .filter_map(|&i| run.items[i].current.as_ref()?.location_member_id.clone())
        .collect();
    let rerun_needed = plan::rerun_needed(
        skipped_for_dependents.iter().map(String::as_str),
        moved_away.iter().map(String::as_str),
    );
    if let Some(code) = stop_code(&client, &interrupt) {
        return run.close(code, stats(&client), rerun_needed);
    }

    // 4. guards
    if let Some(max) = settings.max_changes
        && to_update.len() as u64 > max
    {
        let why = format!("{} changes exceed --max-changes {max}; nothing was written", to_update.len());
        tracing::error!("{why}");
        let a = if run.mode == Mode::Plan { Action::WouldUpdate } else { Action::NotAttempted };
        for &i in &to_update {
            run.finish(i, a, why.clone());
        }
        return run.close(exit::GUARD, stats(&client), rerun_needed);
    }
    if run.mode == Mode::Plan {
        for &i in &to_update {
            run.finish(i, Action::WouldUpdate, "");
        }
        let code = base_code(&run, settings);
        return run.close(code, stats(&client), rerun_needed);
    }

    // 5. write phase
    run.sink.span.pb_set_message("writing");
    let limit = settings.limit.map(|k| k as usize).unwrap_or(usize::MAX);
    if to_update.len() > limit {
        for &i in &to_update[limit..] {
            run.finish(i, Action::NotAttempted, format!("not written: --limit {limit} reached"));
        }
        to_update.truncate(limit);
    }
    let capped = write_phase(&mut run, &client, to_update, conc, settings.max_failures).await;
    if capped {
        run.finish_rest("not attempted: --max-failures reached");
    }
    let code = stop_code(&client, &interrupt).unwrap_or_else(|| base_code(&run, settings));
    run.close(code, stats(&client), rerun_needed)
}

/// PUT the rows in `to_update` (file order); true when `--max-failures` stopped it.
///
/// A hand-rolled pool rather than `buffer_unordered`: the rollback line must be
/// written (with `run` borrowed mutably) before each PUT future exists.
async fn write_phase(run: &mut Run, client: &Client, to_update: Vec<usize>, conc: usize, max_failures: Option<u64>) -> bool {
    let mut queue = to_update.into_iter().filter_map(|i| {
        let d = run.rows[i].desired()?;
        let body = EcbnPut {
            selected: Some(d.selected.as_str().into()),
            location_member_id: (d.selected == Selected::LocationMemberNumber).then(|| d.target_id.clone().unwrap_or_default()),
            ..Default::default()
        };
        Some((i, d.person_id.clone().unwrap_or_default(), body))
    }).collect::<Vec<_>>().into_iter();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let (mut first, mut failures, mut capped) = (true, 0u64, false);
    loop {
        // the first PUT goes alone: a token without the write scope costs one request
        let room = if first { 1 } else { conc };
        while in_flight.len() < room && !capped && !client.transport().stopped() {
            let Some((i, pid, body)) = queue.next() else { break };
            if !run.record_rollback(i) {
                run.finish(i, Action::Failed, "not written: the rollback file cannot be written");
                continue;
            }
            in_flight.push(async move { (i, client.put_ecbn(&pid, &body).await) });
        }
        let Some((i, call)) = in_flight.next().await else { break };
        first = false;
        run.account(i, &call);
        match call.result {
            Ok(()) => run.finish(i, Action::Updated, ""),
            Err(ApiError::Cancelled) => {}
            Err(e) => {
                run.finish(i, Action::Failed, e.to_string());
                failures += 1;
                if max_failures.is_some_and(|n| failures >= n) && !capped {
                    capped = true;
                    tracing::error!("{failures} writes failed: --max-failures reached, stopping the write phase");
                }
            }
        }
    }
    capped
}
