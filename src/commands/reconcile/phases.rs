//! The three phases that talk to the API, each a bounded worker pool over the one
//! client: rows go in, each ends in the sink or moves on to the next phase.

use super::Sink;
use crate::ids::Uuid;
use crate::plan::{self, Diff, LocationForecast, PointedBy};
use crate::row::{Differs, Failure, Held, Resolved, Row, Rows, Verdict};
use crate::webex::{ApiError, Client};
use crate::wire::EcbnPut;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::HashMap;

/// The read phase: every row's current ECBN, decided as it arrives (with what members
/// on LOCATION_ECBN will reach, when the file changes their location). Returns the rows
/// that differ and that the in-file rule does not skip.
pub(super) async fn read(
    sink: &mut Sink,
    client: &Client,
    rows: Rows<Row<Resolved>>,
    in_file_targets: &HashMap<Uuid, u32>,
    forecast: &LocationForecast,
    concurrency: usize,
) -> Rows<Row<Differs>> {
    let mut differ = Rows::default();
    let mut answers = futures_util::stream::iter(rows)
        .map(|row| async move {
            let call = client.get_ecbn(row.stage.kind, &row.stage.member.spelling()).await;
            (row, call)
        })
        .buffer_unordered(concurrency);
    while let Some((mut row, call)) = answers.next().await {
        row.trail.account(call.tally());
        let get = match call.result {
            Ok(get) => get,
            Err(e) => {
                sink.finish(row, failed(e));
                continue;
            }
        };
        let mut reading = plan::reading(&get);
        let diff = plan::diff(&row.stage, &reading);
        reading.predicted = plan::predict(&row.stage, &get, &diff, forecast);
        row.trail.read = Some(Box::new(reading));
        match diff {
            Diff::InSync => sink.finish(row, Verdict::InSync),
            Diff::Unknown(f) => sink.finish(row, Verdict::Failed(f)),
            Diff::Differs(current) => match plan::skip_in_file(&row.stage, in_file_targets) {
                Some(skip) => sink.finish(row, Verdict::Skipped(skip)),
                None => differ.push(row.map(|want| Differs { want, current })),
            },
        }
    }
    differ
}

/// The skip rule over the live dependencies of each differing member. Returns the rows
/// to write, and the members skipped because others point at them (and who).
pub(super) async fn dependencies(
    sink: &mut Sink,
    client: &Client,
    rows: Rows<Row<Differs>>,
    concurrency: usize,
) -> (Vec<Row<Differs>>, Vec<(Uuid, PointedBy)>) {
    let (mut to_write, mut skipped_for_dependents) = (Vec::new(), Vec::new());
    let mut answers = futures_util::stream::iter(rows)
        .map(|row| async move {
            let want = &row.stage.want;
            let call = client.get_dependencies(want.kind, &want.member.spelling()).await;
            (row, call)
        })
        .buffer_unordered(concurrency);
    while let Some((mut row, call)) = answers.next().await {
        // a kind nobody can depend on (a location) is written without asking
        let Some(call) = call else {
            to_write.push(row);
            continue;
        };
        row.trail.account(call.tally());
        match call.result {
            Ok(deps) => {
                row.trail.dependents = Some(deps.dependent_member_count);
                match plan::skip_by_dependencies(&deps, row.stage.want.kind) {
                    Some(skip) => {
                        if let Some(by) = PointedBy::of_skip(&skip) {
                            skipped_for_dependents.push((row.stage.want.member.uuid(), by));
                        }
                        sink.finish(row, Verdict::Skipped(skip));
                    }
                    None => to_write.push(row),
                }
            }
            Err(e) => sink.finish(row, failed(e)),
        }
    }
    (to_write, skipped_for_dependents)
}

/// Rows the write phase did not send, and why.
pub(super) struct Unsent {
    pub(super) rows: Vec<Row<Differs>>,
    pub(super) why: Held,
}

/// PUT the rows (in file order), each after its rollback line; the first goes alone,
/// so a token without the write scope costs one request. A report or rollback line that
/// cannot be written stops the sending: PUTs already sent are awaited, none follows.
///
/// A hand-rolled pool rather than `buffer_unordered`: the rollback line must be
/// written (with the sink borrowed mutably) before each PUT future exists.
pub(super) async fn write(
    sink: &mut Sink,
    client: &Client,
    rows: Vec<Row<Differs>>,
    max_failures: Option<u64>,
) -> Unsent {
    let mut queue = rows.into_iter();
    let mut in_flight = FuturesUnordered::new();
    let (mut first, mut failures, mut stop) = (true, 0u64, None);
    loop {
        // as many as may be on the wire now: a rollback line is written only for a PUT
        // about to be sent
        let room = if first { 1 } else { client.transport().in_flight_limit() };
        while in_flight.len() < room && stop.is_none() && !client.transport().stopped() {
            if let Some(path) = sink.storage_failure() {
                stop = Some(Held::StorageFailed(path.to_string()));
                break;
            }
            let Some(row) = queue.next() else { break };
            if !sink.rollback(&row) {
                let why = Held::StorageFailed(sink.storage_failure().unwrap_or("the rollback file").to_string());
                sink.finish(row, Verdict::NotAttempted(why.clone()));
                stop = Some(why);
                break;
            }
            in_flight.push(async move {
                let want = &row.stage.want;
                let call = client.put_ecbn(want.kind, &want.member.spelling(), &put_body(want)).await;
                (row, call)
            });
        }
        let Some((mut row, call)) = in_flight.next().await else { break };
        first = false;
        row.trail.account(call.tally());
        match call.result {
            Ok(()) => sink.finish(row, Verdict::Updated),
            Err(e @ ApiError::Cancelled) => sink.finish(row, failed(e)),
            Err(e) => {
                sink.finish(row, failed(e));
                failures += 1;
                if max_failures.is_some_and(|n| failures >= n) && stop.is_none() {
                    stop = Some(Held::MaxFailures);
                    tracing::error!("{failures} writes failed: --max-failures reached, stopping the write phase");
                }
            }
        }
    }
    Unsent { rows: queue.collect(), why: stop.unwrap_or(Held::RunStopped) }
}

/// Only `selected` and, for LOCATION_MEMBER_NUMBER, `locationMemberId`; never the ELIN flags.
fn put_body(want: &Resolved) -> EcbnPut {
    EcbnPut {
        selected: Some(want.setting.selected().as_str().into()),
        location_member_id: want.setting.target().map(|t| t.spelling().into_owned()),
        ..Default::default()
    }
}

/// A request that did not succeed: the row failed, or was never sent (a stopped run).
fn failed(e: ApiError) -> Verdict {
    match e {
        ApiError::Cancelled => Verdict::NotAttempted(Held::RunStopped),
        e => Verdict::Failed(Failure::Api(e)),
    }
}
