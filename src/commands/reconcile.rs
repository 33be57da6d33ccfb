//! `plan` and `apply`: the core loop.
//!
//! 1. Lock (apply), read and validate the file: a bad file stops here, before any request.
//! 2. Connect, resolve emails and phone numbers, check the rows again.
//! 3. Read phase: every member's ECBN; diff; the in-file skip rule.
//! 4. The skip rule over live dependencies, for members who differ.
//! 5. Guards (`--max-changes`); `plan` stops here.
//! 6. Write phase (`apply`): `--limit`, rollback line before each PUT, `--max-failures`.
//!
//! Every row ends in the sink exactly once; a stopped run reports the rows it did not
//! reach as `not_attempted`. Reports are written however the run ends.

mod phases;

use super::api::Api;
use super::sink::Sink;
use super::{Mode, Stamp};
use crate::config::Settings;
use crate::error::{Error, Outcome};
use crate::ids::Uuid;
use crate::plan::{LocationForecast, PointedBy};
use crate::report::Action;
use crate::report::Recorder;
use crate::resolve;
use crate::row::{Desired, Differs, Field, Held, Problem, Row, RowErrors, Rows, Stage, Unresolved, Verdict};
use crate::webex::Client;
use crate::{desired, lock, plan};
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(
    mode: Mode,
    path: &Path,
    s: &Settings,
    recorder: &Recorder,
    interrupt: CancellationToken,
) -> Result<Outcome, Error> {
    let stamp = Stamp::now();
    // the lock comes before the file is read, so a concurrent apply never starts work
    let _lock = match mode {
        Mode::Apply => Some(lock::acquire(&s.report_dir, &stamp.iso)?),
        _ => None,
    };
    let mut rows = desired::read(path, &s.read_options())?;
    plan::cross_check(&mut rows);
    let mut sink = Sink::create(mode, path, rows.len(), s, &stamp, recorder)?;
    let _progress = sink.span().entered();

    // 1. the file must be sound before any request
    let (mut valid, mut invalid) = (Rows::default(), Vec::new());
    for row in rows {
        match row.detach() {
            (r, Ok(d)) => valid.push(r.attach(d)),
            (r, Err(e)) => invalid.push((r, e)),
        }
    }
    if let Some(e) = report_invalid(&mut sink, invalid, s.skip_invalid) {
        abandon(&mut sink, valid, Held::InvalidRows);
        return sink.close(Err(e), None, false);
    }

    // 2. the API
    let api = match Api::connect(s, interrupt.child_token()).await {
        Ok(api) => api,
        Err(e) => {
            let why = match &e {
                Error::Token(t) => Held::NoToken(t.to_string()),
                _ => Held::RunStopped,
            };
            abandon(&mut sink, valid, why);
            return sink.close(Err(e), None, false);
        }
    };
    let (end, rerun_needed) = reconcile(mode, &mut sink, &api.client, valid, s, &interrupt).await;
    let stats = api.client.transport().stats();
    let end = sink.close(end, Some(stats), rerun_needed);
    api.close().await;
    end
}

/// Steps 2–6 over the rows that passed the offline checks; how the run ended and
/// whether a member skipped now may be written by the next run.
async fn reconcile(
    mode: Mode,
    sink: &mut Sink,
    client: &Client,
    rows: Rows<Row<Desired>>,
    s: &Settings,
    interrupt: &CancellationToken,
) -> (Result<Outcome, Error>, bool) {
    // the pools hold this many; the transport keeps what the rate needs on the wire
    let conc = client.transport().pool();

    // 2. resolution of emails and phone numbers, then the cross-row checks once more
    sink.phase("resolving");
    let mut rows = resolve::resolve(client, rows, conc).await;
    plan::cross_check(&mut rows);
    let (mut ready, mut invalid) = (Rows::default(), Vec::new());
    for row in rows {
        match row.detach() {
            (r, Ok(res)) => ready.push(r.attach(res)),
            (r, Err(Unresolved::Invalid(e))) => invalid.push((r, e)),
            (r, Err(Unresolved::Failed(f))) => sink.finish(r, Verdict::Failed(f)),
            (r, Err(Unresolved::Stopped)) => sink.finish(r, Verdict::NotAttempted(Held::RunStopped)),
        }
    }
    if let Some(e) = stopped(client, interrupt) {
        for (r, errors) in invalid {
            sink.finish(r, Verdict::Invalid(errors));
        }
        abandon(sink, ready, Held::RunStopped);
        return (Err(e), false);
    }
    // nightly policy: rows that no longer resolve (someone left) never hide the rest in
    // `plan`; `apply` stops before any write unless told to go on without them
    if let Some(e) = report_unresolved(sink, invalid, mode, s, ready.len()) {
        abandon(sink, ready, Held::UnresolvedRows);
        return (Err(e), false);
    }

    // 3. read phase: every row's current ECBN, decided as it arrives — the locations'
    // first, since a member on LOCATION_ECBN will reach what its location's row gives
    sink.phase("reading");
    let targets = plan::in_file_targets(ready.iter());
    let (locations, members): (Rows<_>, Rows<_>) = ready.into_iter().partition(|r| !r.stage.kind.spec().member);
    let mut differ = phases::read(sink, client, locations, &targets, &LocationForecast::default(), conc).await;
    let mut forecast = LocationForecast::of(differ.iter());
    if !forecast.changed.is_empty() && !members.is_empty() {
        forecast.location_of = resolve::members_of(client, &forecast.changed).await;
    }
    if let Some(e) = stopped(client, interrupt) {
        abandon(sink, differ, Held::RunStopped);
        abandon(sink, members, Held::RunStopped);
        return (Err(e), false);
    }
    differ.extend(phases::read(sink, client, members, &targets, &forecast, conc).await);
    if let Some(e) = stopped(client, interrupt) {
        abandon(sink, differ, Held::RunStopped);
        return (Err(e), false);
    }

    // 4. the skip rule over live dependencies, for the members who differ
    let (mut to_write, skipped) = phases::dependencies(sink, client, differ, conc).await;
    let moved_away: Vec<(Uuid, PointedBy)> = to_write
        .iter()
        .filter_map(|r| Some((r.stage.current.member.as_ref()?.uuid(), PointedBy::of(r.stage.want.kind))))
        .collect();
    let rerun_needed = plan::rerun_needed(&skipped, &moved_away);
    if let Some(e) = stopped(client, interrupt) {
        abandon(sink, to_write, Held::RunStopped);
        return (Err(e), rerun_needed);
    }
    // locations first (a member's LOCATION_ECBN then reaches the new value at once),
    // each in file order, for --limit
    to_write.sort_unstable_by_key(|r| (r.stage.want.kind.spec().member, r.line));

    // 5. guards; `plan` ends here. A change that leaves no callback number is a file
    // error under --require-callback; then too many changes.
    if s.require_callback {
        let (refused, kept): (Vec<_>, Vec<_>) =
            to_write.into_iter().partition(|r| r.trail.read.as_ref().is_some_and(|r| r.predicted.none));
        to_write = kept;
        let refused = refused.into_iter().map(|r| {
            let selected = r.stage.want.setting.selected();
            (r, RowErrors::one(Field::Selected, Problem::NoCallback(selected)))
        });
        if let Some(e) = report_unresolved(sink, refused.collect(), mode, s, to_write.len()) {
            hold(sink, mode, to_write, Held::NoCallbackRows);
            return (Err(e), rerun_needed);
        }
    }
    if let Some(max) = s.max_changes
        && to_write.len() as u64 > max
    {
        let changes = to_write.len();
        hold(sink, mode, to_write, Held::MaxChanges { changes, max });
        return (Err(Error::TooManyChanges { changes, max }), rerun_needed);
    }
    if mode == Mode::Plan {
        for r in to_write {
            sink.finish(r, Verdict::WouldUpdate(None));
        }
        return (Ok(outcome(sink, mode, s)), rerun_needed);
    }

    // 6. write phase
    sink.phase("writing");
    if let Some(k) = s.limit
        && to_write.len() as u64 > k
    {
        let rest = to_write.split_off(k as usize);
        abandon(sink, rest, Held::Limit(k));
    }
    let left = phases::write(sink, client, to_write, s.max_failures).await;
    abandon(sink, left.rows, left.why);
    let end = match stopped(client, interrupt) {
        Some(e) => Err(e),
        None => Ok(outcome(sink, mode, s)),
    };
    (end, rerun_needed)
}

/// What stopped a run early: a fatal answer (exit 1) or a signal (exit 130).
fn stopped(client: &Client, interrupt: &CancellationToken) -> Option<Error> {
    let t = client.transport();
    match t.fatal() {
        Some(f) => Some(Error::Api(f)),
        None if interrupt.is_cancelled() || t.stopped() => Some(Error::Interrupted),
        None => None,
    }
}

/// A run that did its work: 3 when rows failed or were invalid, 2 for a plan with
/// changes under `--detailed-exitcode`.
fn outcome(sink: &Sink, mode: Mode, s: &Settings) -> Outcome {
    if sink.count(Action::Failed) > 0 || sink.count(Action::Invalid) > 0 {
        Outcome::Partial
    } else if mode == Mode::Plan && s.detailed_exitcode && sink.count(Action::WouldUpdate) > 0 {
        Outcome::ChangesPending
    } else {
        Outcome::Clean
    }
}

/// Invalid rows, each on stderr and in the report; unless `--skip-invalid`, the error
/// that ends the run before any write.
fn report_invalid<S: Stage>(sink: &mut Sink, rows: Vec<(Row<S>, RowErrors)>, skip_invalid: bool) -> Option<Error> {
    let count = rows.len() as u64;
    for (r, e) in rows {
        crate::logging::diag(&format!("{}:{}: {e}", sink.desired_file(), r.line));
        sink.finish(r, Verdict::Invalid(e));
    }
    (count > 0 && !skip_invalid).then(|| Error::InvalidRows { path: sink.desired_file().to_string(), count })
}

/// Rows found invalid once the API was asked (resolution, `--require-callback`), each on
/// stderr and in the report. `plan` goes on without them (exit 3); `apply` without
/// `skip_invalid` stops before any write, saying how many `others` it would have
/// reconciled.
fn report_unresolved<S: Stage>(
    sink: &mut Sink,
    rows: Vec<(Row<S>, RowErrors)>,
    mode: Mode,
    s: &Settings,
    others: usize,
) -> Option<Error> {
    let count = rows.len() as u64;
    report_invalid(sink, rows, s.skip_invalid || mode == Mode::Plan)?;
    Some(Error::UnresolvedRows { path: sink.desired_file().to_string(), count, others })
}

/// Changes a guard holds back: `plan` still shows them as `would_update`.
fn hold(sink: &mut Sink, mode: Mode, rows: Vec<Row<Differs>>, why: Held) {
    for r in rows {
        let verdict = match mode {
            Mode::Plan => Verdict::WouldUpdate(Some(why.clone())),
            _ => Verdict::NotAttempted(why.clone()),
        };
        sink.finish(r, verdict);
    }
}

/// Rows the run will not reach.
fn abandon<S: Stage>(sink: &mut Sink, rows: impl IntoIterator<Item = Row<S>>, why: Held) {
    for r in rows {
        sink.finish(r, Verdict::NotAttempted(why.clone()));
    }
}
