//! `export`: today's state as a desired-state file (plus informational columns), so it
//! is both an audit baseline and a ready-to-edit template: `export --all | plan` is
//! all `in_sync`.
//!
//! 1. With `--people FILE`: read its member column; a bad file stops here (exit 65).
//! 2. Connect; list people, workspaces and virtual lines with Webex Calling (`--all`,
//!    narrowed by `--kind` and `--location`), or resolve the file's emails with the one
//!    strict resolver (exactly one person per email).
//! 3. One ECBN GET per member, through its kind's endpoint, in listing order, into a
//!    file that appears only when the export is whole (or `--out -`: stdout).
//! 4. The summary.

use super::Stamp;
use super::api::Api;
use crate::atomic::AtomicFile;
use crate::cli::ExportArgs;
use crate::config::Settings;
use crate::desired::DesiredColumn;
use crate::error::{Error, Outcome};
use crate::ids::{Kind, WebexId};
use crate::report::{self, Recorder, Summary, escape_cell};
use crate::resolve::{EmailBook, NotFound};
use crate::row::{Field, MemberRef, Named, Prediction, Problem, RowErrors};
use crate::webex::{ApiError, Client, LatencyReport};
use crate::wire::{LocationItem, Person, VirtualLine, Workspace};
use crate::{desired, logging};
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// The desired-state file's columns ([`DesiredColumn::header`]), then these, which the
/// reader ignores.
const INFORMATIONAL: [&str; 5] =
    ["email", "display_name", "location_id", "current_effective_number", "current_effective_quality"];

/// A member to export, with what its listing (or file) says of it. An export lists every
/// member before it reads them, so an entry is kept small: a decoded ID (no text in the
/// canonical spelling), and a location's ID shared by all its members.
#[derive(Debug)]
struct Entry {
    id: WebexId,
    kind: Option<Kind>,
    email: Box<str>,
    display_name: Box<str>,
    location_id: Arc<str>,
}

/// One copy of each location ID the listings give.
#[derive(Default)]
struct Locations(HashSet<Arc<str>>);

impl Locations {
    fn shared(&mut self, id: String) -> Arc<str> {
        match self.0.get(id.as_str()) {
            Some(known) => known.clone(),
            None => {
                let id: Arc<str> = id.into();
                self.0.insert(id.clone());
                id
            }
        }
    }
}

/// The rows of an `export --people` file: line, member and kind.
struct NamedFile<'a> {
    path: &'a Path,
    rows: Vec<(u32, Named)>,
}

/// What was exported.
#[derive(Debug, Default)]
struct Counts {
    exported: u64,
    failed: u64,
    no_calling: u64,
}

pub(crate) async fn run(
    args: ExportArgs,
    s: &Settings,
    recorder: &Recorder,
    interrupt: CancellationToken,
) -> Result<Outcome, Error> {
    let stamp = Stamp::now();
    // 1. the file of members, checked before any request
    let named = match (args.all, &args.people) {
        (true, None) => None,
        (false, Some(p)) => Some(NamedFile { path: p, rows: read_members(p, s)? }),
        _ => return Err(Error::Usage("export needs --all or --people FILE".into())),
    };
    // 2. the API and the members
    let api = Api::connect(s, interrupt.child_token()).await?;
    let end = export(&api.client, &args, named, s, &stamp, recorder, &interrupt).await;
    api.close().await;
    end
}

/// Steps 2–4: a failed export leaves no output file behind, and always a summary.
async fn export(
    client: &Client,
    args: &ExportArgs,
    named: Option<NamedFile<'_>>,
    s: &Settings,
    stamp: &Stamp,
    recorder: &Recorder,
    interrupt: &CancellationToken,
) -> Result<Outcome, Error> {
    let storage = Error::storage;
    std::fs::create_dir_all(&s.report_dir).map_err(storage(&s.report_dir))?;
    let out_path = match &args.out {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.clone()),
        None => Some(s.report_dir.join(format!("ecbn-export-{}.csv", stamp.file))),
    };
    let mut file = out_path.as_deref().map(|p| AtomicFile::create(p).map_err(storage(p))).transpose()?;
    let mut counts = Counts::default();
    let kinds: Vec<Kind> = match args.kind.as_slice() {
        [] => Kind::ALL.to_vec(),
        given => given.to_vec(),
    };
    let members = match named {
        None => list_members(client, &kinds, &args.location, &mut counts).await,
        Some(file) => {
            let rows = file.rows.into_iter().filter(|(_, n)| kinds.contains(&n.kind)).collect();
            members_named(client, file.path, rows, &mut counts, client.transport().pool()).await
        }
    };
    let written = match members {
        Ok(members) => {
            let mut stdout = std::io::stdout().lock();
            let out: &mut dyn Write = match file.as_mut() {
                Some(f) => f,
                None => &mut stdout,
            };
            write_rows(client, members, out, &mut counts, client.transport().pool()).await.map_err(|source| {
                Error::Storage {
                    path: out_path.as_deref().map_or("stdout".into(), |p| p.display().to_string()),
                    source,
                }
            })
        }
        Err(e) => Err(e),
    };
    let end = match (client.transport().fatal(), written) {
        (Some(f), _) => Err(Error::Api(f)),
        (None, _) if interrupt.is_cancelled() => Err(Error::Interrupted),
        (None, written) => written.map(|()| if counts.failed > 0 { Outcome::Partial } else { Outcome::Clean }),
    };
    let mut files = Vec::new();
    if let Some(f) = file {
        let path = f.target().display().to_string();
        if end.is_ok() {
            f.commit().map_err(storage(Path::new(&path)))?;
            files.push(path);
        }
    }
    let json = s.report_dir.join(format!("ecbn-export-{}.json", stamp.file));
    files.push(json.display().to_string());
    let stats = client.transport().stats();
    let counts_map =
        BTreeMap::from([("exported", counts.exported), ("failed", counts.failed), ("no_calling", counts.no_calling)]);
    let summary = Summary {
        mode: "export",
        started_at: stamp.iso.clone(),
        finished_at: report::timestamps(SystemTime::now()).1,
        duration_ms: stamp.started.elapsed().as_millis() as u64,
        desired_file: out_path.map_or("-".into(), |p: PathBuf| p.display().to_string()),
        report_files: files,
        rows: counts_map.values().sum::<u64>() as usize,
        counts: counts_map,
        counts_by_kind: BTreeMap::new(),
        predicted_quality: None,
        requests: stats.requests,
        http_status: stats.http_status,
        retries: stats.retries,
        rate: stats.rate,
        in_flight: stats.in_flight,
        latency_ms: LatencyReport::of(&stats.latency),
        rerun_needed: false,
        rollback_unrestorable: vec![],
        exit_code: crate::error::exit_code(&end),
    };
    recorder.record(&summary, Vec::new());
    report::write_summary(&json, &summary).map_err(storage(&json))?;
    if end.is_ok() {
        logging::diag(&format!("Export: {} members, {} failed.", counts.exported, counts.failed));
    }
    end
}

/// The member column of a desired-style file; every bad row is reported.
fn read_members(path: &Path, s: &Settings) -> Result<Vec<(u32, Named)>, Error> {
    let rows = desired::read_members(path, &s.read_options())?;
    let mut ok = Vec::new();
    let mut bad = 0u64;
    for r in rows {
        match r.stage {
            Ok(named) => ok.push((r.line, named)),
            Err(e) => {
                logging::diag(&format!("{}:{}: {e}", path.display(), r.line));
                bad += 1;
            }
        }
    }
    match bad {
        0 => Ok(ok),
        count => Err(Error::InvalidRows { path: path.display().to_string(), count }),
    }
}

/// The members with Webex Calling of the listings of `kinds` (per location when given),
/// in listing order; the others are counted as `no_calling`.
async fn list_members(
    client: &Client,
    kinds: &[Kind],
    locations: &[String],
    counts: &mut Counts,
) -> Result<Vec<Entry>, Error> {
    let (mut out, mut shared) = (Vec::new(), Locations::default());
    let locations: Vec<Option<&str>> =
        if locations.is_empty() { vec![None] } else { locations.iter().map(|l| Some(l.as_str())).collect() };
    for &kind in kinds {
        if kind == Kind::Location {
            // one listing, whatever the filter: a location is in it when it is one of them
            let wanted: Vec<WebexId> = locations.iter().flatten().map(|l| WebexId::from_api(l)).collect();
            let listed = client.locations_listing(|l| {
                let id = WebexId::from_api(&l.id);
                if wanted.is_empty() || wanted.contains(&id) {
                    out.push(location(l, &mut shared));
                }
            });
            listed.await.map_err(|e| Error::Listing { what: kind.noun(), source: e })?;
            continue;
        }
        for &l in &locations {
            let s = &mut shared;
            let listed = match kind {
                Kind::Person => client.people_listing(l, |p| out.extend(person(p, counts, s))).await,
                Kind::Workspace => client.workspaces_listing(l, |w| out.extend(workspace(w, counts, s))).await,
                Kind::VirtualLine => client.virtual_lines_listing(l, |v| out.push(virtual_line(v, s))).await,
                Kind::Location => unreachable!("listed once, above"),
            };
            listed.map_err(|e| Error::Listing { what: kind.noun(), source: e })?;
        }
    }
    Ok(out)
}

fn location(l: LocationItem, locations: &mut Locations) -> Entry {
    Entry {
        id: WebexId::from_api(&l.id),
        kind: Some(Kind::Location),
        email: "".into(),
        display_name: l.name.unwrap_or_default().into(),
        location_id: locations.shared(l.id),
    }
}

/// A person of the calling listing: they have Webex Calling when it gives a location.
fn person(p: Person, counts: &mut Counts, locations: &mut Locations) -> Option<Entry> {
    let Some(location_id) = p.location_id else {
        counts.no_calling += 1;
        return None;
    };
    Some(Entry {
        id: WebexId::from_api(&p.id),
        kind: Some(Kind::Person),
        email: p.emails.into_iter().next().unwrap_or_default().into(),
        display_name: p.display_name.unwrap_or_default().into(),
        location_id: locations.shared(location_id),
    })
}

fn workspace(w: Workspace, counts: &mut Counts, locations: &mut Locations) -> Option<Entry> {
    let calling = w.calling.filter(|c| c.kind.as_deref() == Some("webexCalling"));
    let Some(calling) = calling else {
        counts.no_calling += 1;
        return None;
    };
    // the listing has been seen never to fill `calling.webexCalling`; `locationId` is there
    let location_id = w.location_id.or_else(|| calling.webex_calling?.location_id).unwrap_or_default();
    Some(Entry {
        id: WebexId::from_api(&w.id),
        kind: Some(Kind::Workspace),
        email: "".into(),
        display_name: w.display_name.unwrap_or_default().into(),
        location_id: locations.shared(location_id),
    })
}

fn virtual_line(v: VirtualLine, locations: &mut Locations) -> Entry {
    let name = [v.first_name, v.last_name].into_iter().flatten().collect::<Vec<_>>().join(" ");
    Entry {
        id: WebexId::from_api(&v.id),
        kind: Some(Kind::VirtualLine),
        email: "".into(),
        display_name: name.into(),
        location_id: locations.shared(v.location.map(|l| l.id).unwrap_or_default()),
    }
}

/// The members a file names: IDs as they are, emails through the strict resolver. An
/// email that names no one, or several people, is the file's fault (exit 65).
async fn members_named(
    client: &Client,
    path: &Path,
    rows: Vec<(u32, Named)>,
    counts: &mut Counts,
    concurrency: usize,
) -> Result<Vec<Entry>, Error> {
    let emails: BTreeSet<_> = rows
        .iter()
        .filter_map(|(_, n)| match &n.member {
            MemberRef::Email(e) => Some(e.clone()),
            MemberRef::Id(_) => None,
        })
        .collect();
    let book = EmailBook::look_up(client, emails, concurrency).await;
    let (mut members, mut bad, mut locations) = (Vec::new(), 0u64, Locations::default());
    for (line, Named { member, kind }) in rows {
        match member {
            MemberRef::Id(id) => members.push(Entry {
                id,
                kind: Some(kind),
                email: "".into(),
                display_name: "".into(),
                location_id: "".into(),
            }),
            MemberRef::Email(e) => match book.person(&e) {
                Ok(p) => members.extend(person(p.clone(), counts, &mut locations)),
                Err(NotFound::Failed(err)) => {
                    tracing::error!(line, "looking up {e} failed: {err}");
                    counts.failed += 1;
                }
                Err(NotFound::Stopped) => {}
                Err(why) => {
                    let problem = match why {
                        NotFound::Ambiguous(matches) => Problem::AmbiguousEmail { email: e, matches },
                        _ => Problem::UnknownEmail(e),
                    };
                    let m = RowErrors::one(Field::Member, problem);
                    logging::diag(&format!("{}:{line}: {m}", path.display()));
                    bad += 1;
                }
            },
        }
    }
    match bad {
        0 => Ok(members),
        count => Err(Error::InvalidRows { path: path.display().to_string(), count }),
    }
}

/// The export file: one ECBN GET per member, in listing order.
async fn write_rows(
    client: &Client,
    members: Vec<Entry>,
    out: &mut dyn Write,
    counts: &mut Counts,
    concurrency: usize,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(DesiredColumn::header().iter().chain(&INFORMATIONAL))?;
    // `buffered` keeps the listing order in the output with `concurrency` in flight
    let mut answers = futures_util::stream::iter(members)
        .map(|m| async move {
            let call = client.get_ecbn(m.kind.unwrap_or(Kind::Person), &m.id.spelling()).await;
            (m, call.result)
        })
        .buffered(concurrency.max(1));
    while let Some((m, result)) = answers.next().await {
        match result {
            Ok(get) => {
                let target = get.selected_member().unwrap_or("");
                // the number a callback reaches today, by the report's one rule
                let today = Prediction::of_block(get.effective_block());
                let quality = get.effective_block().and_then(|b| b.quality.as_deref()).unwrap_or("");
                let id = m.id.spelling();
                let rec = [
                    &*id,
                    &get.selected,
                    target,
                    m.kind.map_or("", Kind::as_str),
                    &m.email,
                    &m.display_name,
                    &m.location_id,
                    &today.number,
                    quality,
                ];
                w.write_record(rec.map(escape_cell).each_ref().map(|c| c.as_ref()))?;
                counts.exported += 1;
            }
            Err(ApiError::Cancelled) => {}
            Err(e) => {
                tracing::error!(member = %m.id, "reading the ECBN failed: {e}");
                counts.failed += 1;
            }
        }
    }
    w.flush()
}
