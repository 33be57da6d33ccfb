//! `export`: today's state as a desired-state file (plus informational columns), so it
//! is both an audit baseline and a ready-to-edit template: `export --all | plan` is
//! all `in_sync`.

use crate::desired::{self, PersonRef};
use crate::engine::exit;
use crate::report::escape_cell;
use crate::webex::{ApiError, Client};
use crate::wire::{Person, Selected};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

pub const COLUMNS: [&str; 8] = [
    "person", "selected", "location_member", "email", "display_name", "location_id",
    "current_effective_number", "current_effective_quality",
];

pub enum Source {
    All { locations: Vec<String> },
    People(PathBuf),
}

pub struct ExportResult {
    pub exported: u64,
    pub failed: u64,
    pub skipped_no_calling: u64,
    pub exit_code: i32,
}

/// People of the listing (per location when given), calling-enabled only.
async fn list_people(client: &Client, locations: &[String]) -> Result<Vec<Person>, ApiError> {
    let mut out = Vec::new();
    let firsts: Vec<_> = if locations.is_empty() {
        vec![client.people_listing_url(None)]
    } else {
        locations.iter().map(|l| client.people_listing_url(Some(l))).collect()
    };
    for first in firsts {
        let mut url = Some(first);
        while let Some(u) = url.take() {
            let (list, next) = client.people_page(u).await.result?;
            out.extend(list.items);
            url = next;
        }
    }
    Ok(out)
}

/// People named in a desired-style file (its `person` column; IDs as they are, emails
/// looked up).
async fn people_from_file(client: &Client, path: &std::path::Path, opts: &desired::ReadOptions) -> Result<Vec<Person>, String> {
    let opts = desired::ReadOptions { person_only: true, ..opts.clone() };
    let file = desired::read(path, &opts).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for r in &file.rows {
        match &r.status {
            desired::RowStatus::Invalid(m) | desired::RowStatus::Unresolved(m) => return Err(format!("{}:{}: {m}", path.display(), r.line)),
            desired::RowStatus::Valid(d) => match &d.person {
                PersonRef::Id(_) => out.push(Person { id: r.person_raw.clone(), ..Default::default() }),
                PersonRef::Email(e) => {
                    let list = client
                        .people_by_email(e)
                        .await
                        .result
                        .map_err(|err| format!("{}:{}: looking up {e}: {err}", path.display(), r.line))?;
                    match list.items.into_iter().next() {
                        Some(p) => out.push(p),
                        None => return Err(format!("{}:{}: person: no person with the email `{e}`", path.display(), r.line)),
                    }
                }
            },
        }
    }
    Ok(out)
}

pub async fn export(client: &Client, source: Source, opts: &desired::ReadOptions, out: &mut dyn Write, concurrency: usize) -> Result<ExportResult, String> {
    let people = match source {
        Source::All { locations } => list_people(client, &locations).await.map_err(|e| format!("listing people failed: {e}"))?,
        Source::People(p) => people_from_file(client, &p, opts).await?,
    };
    let (calling, no_calling): (Vec<Person>, Vec<Person>) = people.into_iter().partition(|p| p.location_id.is_some() || p.emails.is_empty());
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS).map_err(|e| e.to_string())?;
    let mut res = ExportResult { exported: 0, failed: 0, skipped_no_calling: no_calling.len() as u64, exit_code: exit::OK };
    // `buffered` keeps the listing order in the output with `concurrency` in flight
    let mut s = futures_util::stream::iter(calling)
        .map(|p| async move {
            let call = client.get_ecbn(&p.id).await;
            (p, call.result)
        })
        .buffered(concurrency.max(1));
    while let Some((p, result)) = s.next().await {
        match result {
            Ok(get) => {
                let sel = get.selected.clone().unwrap_or_default();
                let member = match Selected::parse(&sel) {
                    Some(Selected::LocationMemberNumber) => get.location_member_info.as_ref().and_then(|i| i.member_id.clone()).unwrap_or_default(),
                    _ => String::new(),
                };
                let eff = get.effective_block();
                let rec = [
                    p.id.clone(),
                    sel,
                    member,
                    p.emails.first().cloned().unwrap_or_default(),
                    p.display_name.clone().unwrap_or_default(),
                    p.location_id.clone().unwrap_or_default(),
                    eff.and_then(|b| b.effective_value.clone()).unwrap_or_default(),
                    eff.and_then(|b| b.quality.clone()).unwrap_or_default(),
                ];
                let rec: Vec<String> = rec.iter().map(|c| escape_cell(c).into_owned()).collect();
                w.write_record(&rec).map_err(|e| e.to_string())?;
                res.exported += 1;
            }
            Err(ApiError::Cancelled) => {}
            Err(e) => {
                tracing::error!(person = %p.id, "reading the ECBN failed: {e}");
                res.failed += 1;
            }
        }
    }
    w.flush().map_err(|e| e.to_string())?;
    if res.failed > 0 {
        res.exit_code = exit::PARTIAL;
    }
    Ok(res)
}

/// Counts for the export summary.
pub fn counts(r: &ExportResult) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([("exported", r.exported), ("failed", r.failed), ("no_calling", r.skipped_no_calling)])
}
