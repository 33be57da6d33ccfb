//! The pure core: cross-row checks, reading an ECBN answer, diff, skip rule. No I/O, no
//! network; every decision about a row comes from these functions over plain values.

use crate::ids::{Kind, Uuid, WebexId};
use crate::report::names;
use crate::row::{
    Current, Desired, Differs, Email, Failure, Field, MemberRef, Parsed, Prediction, Problem, Reading, Resolved, Row,
    RowError, RowErrors, Rows, Setting, Skip, Stage, TargetRef, Unresolved, excerpt,
};
use crate::wire::{Dependencies, EcbnGet, Selected};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// Who a row is about, for the cross-row checks: a UUID, or an email before resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Uuid(Uuid),
    Email(Email),
}

/// A stage whose member and target can be compared across rows.
pub(crate) trait Keyed {
    fn member_key(&self) -> Option<Key>;
    fn target_key(&self) -> Option<Key>;
    /// Mark the row invalid, keeping the first reason when several checks object.
    fn reject(&mut self, error: RowError);
}

impl Keyed for Parsed {
    fn member_key(&self) -> Option<Key> {
        let d: &Desired = self.as_ref().ok()?;
        Some(match &d.member {
            MemberRef::Id(id) => Key::Uuid(id.uuid()),
            MemberRef::Email(e) => Key::Email(e.clone()),
        })
    }
    fn target_key(&self) -> Option<Key> {
        match self.as_ref().ok()?.setting.target()? {
            TargetRef::Id(id) => Some(Key::Uuid(id.uuid())),
            TargetRef::Email(e) => Some(Key::Email(e.clone())),
            TargetRef::Phone(_) => None,
        }
    }
    fn reject(&mut self, error: RowError) {
        if self.is_ok() {
            *self = Err(RowErrors(vec![error]));
        }
    }
}

impl Keyed for Result<Resolved, Unresolved> {
    fn member_key(&self) -> Option<Key> {
        Some(Key::Uuid(self.as_ref().ok()?.member.uuid()))
    }
    fn target_key(&self) -> Option<Key> {
        Some(Key::Uuid(self.as_ref().ok()?.setting.target()?.uuid()))
    }
    fn reject(&mut self, error: RowError) {
        if self.is_ok() {
            *self = Err(Unresolved::Invalid(RowErrors(vec![error])));
        }
    }
}

/// The lines of every member seen more than once. Standard UUIDs are kept as 16-byte
/// keys, so a file of a million rows is checked exactly in a few tens of MB.
#[derive(Debug, Default)]
pub(crate) struct Duplicates {
    first_by_uuid: HashMap<[u8; 16], u32>,
    first_by_key: HashMap<Key, u32>,
    groups: HashMap<Key, Vec<u32>>,
}

impl Duplicates {
    /// Note a member's row; for a member seen before, all its lines so far (this one last).
    pub(crate) fn note(&mut self, key: Key, line: u32) -> Option<&[u32]> {
        let first = match &key {
            Key::Uuid(Uuid::Std(bytes)) => match self.first_by_uuid.entry(*bytes) {
                Entry::Vacant(v) => {
                    v.insert(line);
                    return None;
                }
                Entry::Occupied(o) => *o.get(),
            },
            _ => match self.first_by_key.entry(key.clone()) {
                Entry::Vacant(v) => {
                    v.insert(line);
                    return None;
                }
                Entry::Occupied(o) => *o.get(),
            },
        };
        let lines = self.groups.entry(key).or_insert_with(|| vec![first]);
        lines.push(line);
        Some(lines)
    }

    /// Every row's member at once (`plan`, `apply`). Standard UUIDs are sorted as
    /// 20-byte pairs rather than hashed: a million rows are checked in 20 MB, where a
    /// map of them takes 44 (66 while it grows).
    pub(crate) fn of_all(keys: impl Iterator<Item = (Key, u32)>) -> Duplicates {
        let mut d = Duplicates::default();
        let mut by_uuid = Vec::new();
        for (key, line) in keys {
            match key {
                Key::Uuid(Uuid::Std(bytes)) => by_uuid.push((bytes, line)),
                key => {
                    d.note(key, line);
                }
            }
        }
        by_uuid.sort_unstable();
        for same in by_uuid.chunk_by(|a, b| a.0 == b.0).filter(|same| same.len() > 1) {
            d.groups.insert(Key::Uuid(Uuid::Std(same[0].0)), same.iter().map(|&(_, line)| line).collect());
        }
        d
    }

    /// The lines of each member seen more than once.
    pub(crate) fn groups(&self) -> impl Iterator<Item = &[u32]> {
        self.groups.values().map(Vec::as_slice)
    }
}

/// The error of the row at `line` whose member appears on all of `lines`.
pub(crate) fn duplicate(line: u32, lines: &[u32]) -> RowError {
    let other_lines = lines.iter().copied().filter(|&l| l != line).collect();
    RowError { field: Field::Member, problem: Problem::Duplicate { other_lines } }
}

/// The check of a row on its own: it must not point at its own member.
pub(crate) fn vet_alone<S: Keyed + Stage>(row: &mut Row<S>) {
    if let (Some(m), Some(t)) = (row.stage.member_key(), row.stage.target_key())
        && m == t
    {
        reject(row, RowError { field: Field::LocationMember, problem: Problem::PointsAtItself });
    }
}

/// Mark a row invalid; its cells are kept as text, since the wish that spelled them goes.
pub(crate) fn reject<S: Keyed + Stage>(row: &mut Row<S>, error: RowError) {
    row.written.keep(&row.stage.wish());
    row.stage.reject(error);
}

/// The cross-row checks over a whole file, in file order: the same member twice (by
/// UUID, or by email before resolution) makes every such row invalid; then each row
/// is vetted alone. Run before resolution and again after it, so an email and an ID
/// of the same person collide.
pub(crate) fn cross_check<S: Keyed + Stage>(rows: &mut Rows<Row<S>>) {
    let dups = Duplicates::of_all(rows.iter().filter_map(|r| Some((r.stage.member_key()?, r.line))));
    let repeated: HashMap<u32, &[u32]> =
        dups.groups().flat_map(|lines| lines.iter().map(move |&line| (line, lines))).collect();
    for r in rows.iter_mut() {
        if let Some(lines) = repeated.get(&r.line) {
            reject(r, duplicate(r.line, lines));
        }
        vet_alone(r);
    }
}

/// UUID → line of the first row that sets LOCATION_MEMBER_NUMBER pointing at it.
pub(crate) fn in_file_targets<'a>(rows: impl IntoIterator<Item = &'a Row<Resolved>>) -> HashMap<Uuid, u32> {
    let mut m = HashMap::new();
    for r in rows {
        if let Some(t) = r.stage.setting.target() {
            m.entry(t.uuid()).or_insert(r.line);
        }
    }
    m
}

/// What an ECBN GET says: today's value and the number a callback reaches.
pub(crate) fn reading(get: &EcbnGet) -> Reading {
    let selected = get.selected.as_str();
    let current = Selected::parse(selected)
        .map(|selected| Current { selected, member: get.selected_member().map(WebexId::from_api) });
    let mut r = Reading { selected: selected.into(), current, ..Default::default() };
    // [doc] the location block's names are the location's name and "."
    r.location = get.location_ecbn_info.as_ref().and_then(|b| b.first_name.as_deref()).map(Box::from);
    if let Some(d) = &get.direct_line_info {
        r.member_name = names::full_name(d.first_name.as_deref(), d.last_name.as_deref());
    }
    // a location's own GET names it in its own block
    if let Some(name) = get.location_info.as_ref().and_then(|l| l.name.as_deref()).filter(|n| !n.trim().is_empty()) {
        r.member_name = Some(name.into());
        r.location = Some(name.into());
    }
    if let Some(m) = &get.location_member_info
        && let Some(id) = &m.member_id
    {
        let noun = m.member_type.as_deref().and_then(names::noun_of_type);
        let name = names::full_name(m.first_name.as_deref(), m.last_name.as_deref());
        let label = name.map_or_else(|| id.as_str().into(), |n| names::target(&n, None, noun).into());
        r.configured = Some((WebexId::from_api(id), label));
    }
    if let Some(b) = get.effective_block() {
        // the one rule: a callback with no value, or whose level is NONE, reaches no number
        let today = Prediction::of_block(Some(b));
        r.effective_quality = b.quality.as_deref().unwrap_or("").into();
        r.warning = today.today();
        r.effective_number = today.number;
    }
    r
}

/// The number a callback would reach once `want` is in place, from this run's ECBN GET
/// and what resolution found; no request. DIRECT_LINE and LOCATION_ECBN: that option's
/// own block. LOCATION_MEMBER_NUMBER: the configured member's block when the target is
/// that member, else a phone-number target's number and quality, else unknown. A row in
/// sync keeps today's number, exactly as read.
pub(crate) fn predict(want: &Resolved, get: &EcbnGet, diff: &Diff, forecast: &LocationForecast) -> Prediction {
    // a member on (or moving to) LOCATION_ECBN whose location the file changes reaches
    // what that location's row will give, in sync or not
    if let (Setting::LocationEcbn, Some(location)) = (&want.setting, forecast.for_member(&want.member)) {
        return location.clone();
    }
    if let Diff::InSync = diff {
        let block = get.effective_block();
        let number = block.and_then(|b| b.effective_value.as_deref()).unwrap_or("").into();
        return Prediction { number, ..Prediction::of_block(block) };
    }
    match &want.setting {
        Setting::DirectLine => Prediction::of_block(get.direct_line_info.as_ref()),
        Setting::LocationEcbn => Prediction::of_block(get.location_ecbn_info.as_ref()),
        Setting::LocationNumber => Prediction::of_block(get.location_info.as_ref()),
        Setting::LocationMember(target) => {
            let configured = get
                .location_member_info
                .as_ref()
                .filter(|b| b.member_id.as_deref().is_some_and(|id| WebexId::from_api(id) == *target));
            match (configured, want.found.as_ref().and_then(|f| f.number.as_ref())) {
                (Some(block), _) => Prediction::of_block(Some(block)),
                (None, Some(found)) => {
                    Prediction { number: found.number.clone(), quality: found.quality.into(), none: false, level: None }
                }
                (None, None) => Prediction::unknown(),
            }
        }
    }
}

/// Outcome of comparing a row's wish with what was read.
#[derive(Debug)]
pub(crate) enum Diff {
    InSync,
    Differs(Current),
    /// A `selected` the tool does not know (or none at all): never written.
    Unknown(Failure),
}

/// Compare by decoded UUID; the member counts only for LOCATION_MEMBER_NUMBER.
pub(crate) fn diff(want: &Resolved, read: &Reading) -> Diff {
    let Some(cur) = &read.current else {
        return Diff::Unknown(Failure::UnknownCurrent(excerpt(&read.selected)));
    };
    let same = want.setting.selected() == cur.selected
        && match &want.setting {
            Setting::LocationMember(t) => cur.member.as_ref() == Some(t),
            Setting::DirectLine | Setting::LocationEcbn | Setting::LocationNumber => true,
        };
    if same { Diff::InSync } else { Diff::Differs(cur.clone()) }
}

/// The in-file rule: another row points at this member (no dependencies GET needed).
pub(crate) fn skip_in_file(want: &Resolved, targets: &HashMap<Uuid, u32>) -> Option<Skip> {
    targets.get(&want.member.uuid()).map(|&line| Skip::InFile { line, of: want.kind })
}

/// The rule over the live dependencies read in this run, for a member of kind `of`.
pub(crate) fn skip_by_dependencies(deps: &Dependencies, of: Kind) -> Option<Skip> {
    if deps.dependent_member_count > 0 {
        Some(Skip::Dependents { count: deps.dependent_member_count, of })
    } else if deps.is_location_ecbn_default {
        Some(Skip::LocationDefault { of })
    } else {
        None
    }
}

/// Who points at a member that is skipped for it: other members (its dependents), or
/// its location (it is the location's ECBN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PointedBy {
    Members,
    Location,
}

impl PointedBy {
    /// Who a row of `kind` is, pointing at someone.
    pub(crate) fn of(kind: Kind) -> PointedBy {
        if kind.spec().member { PointedBy::Members } else { PointedBy::Location }
    }

    /// Why a skip was made, when it is someone's pointing.
    pub(crate) fn of_skip(skip: &Skip) -> Option<PointedBy> {
        match skip {
            Skip::Dependents { .. } => Some(PointedBy::Members),
            Skip::LocationDefault { .. } => Some(PointedBy::Location),
            Skip::InFile { .. } => None,
        }
    }
}

/// A member skipped because others point at it may be free next run when this run
/// moves such a pointer away: the current value of an updated row of the same sort
/// (a member's, or a location's) pointed at them.
pub(crate) fn rerun_needed<'a>(
    skipped: impl IntoIterator<Item = &'a (Uuid, PointedBy)>,
    moved_away_from: impl IntoIterator<Item = &'a (Uuid, PointedBy)>,
) -> bool {
    let moved: HashSet<&(Uuid, PointedBy)> = moved_away_from.into_iter().collect();
    skipped.into_iter().any(|p| moved.contains(p))
}

/// What members on LOCATION_ECBN will reach once the file's location rows are in place:
/// each changed location's predicted number, and which location each member is in
/// (learned only when the file changes a location).
#[derive(Debug, Default)]
pub(crate) struct LocationForecast {
    /// The locations the file changes, as their rows name them.
    pub(crate) changed: Vec<WebexId>,
    by_location: HashMap<Uuid, Prediction>,
    /// Member → its location.
    pub(crate) location_of: HashMap<Uuid, Uuid>,
}

impl LocationForecast {
    /// The changed locations' predictions, from their rows that will be written.
    pub(crate) fn of<'a>(changing: impl IntoIterator<Item = &'a Row<Differs>>) -> LocationForecast {
        let mut f = LocationForecast::default();
        for r in changing {
            if let Some(read) = &r.trail.read {
                f.changed.push(r.stage.want.member.clone());
                f.by_location.insert(r.stage.want.member.uuid(), read.predicted.clone());
            }
        }
        f
    }

    pub(crate) fn for_member(&self, member: &WebexId) -> Option<&Prediction> {
        self.by_location.get(self.location_of.get(&member.uuid())?)
    }
}

#[cfg(test)]
mod tests;
