//! A record's cells to typed values: every problem of a row, each with its column.

use crate::ids::{Kind, WebexId};
use crate::phone::{self, Country};
use crate::row::{
    Cells, Desired, Email, Field, MemberRef, Named, Parsed, Problem, RowError, RowErrors, Setting, TargetRef, excerpt,
};
use crate::wire::Selected;

/// Trim, and drop one leading `'` (the spreadsheet text marker).
pub(super) fn clean(cell: &str) -> &str {
    let t = cell.trim();
    t.strip_prefix('\'').unwrap_or(t).trim()
}

pub(super) fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
}

/// Validate a row's cells; every problem is reported, not only the first.
pub(super) fn desired(w: &Cells, has_target_column: bool, country: Country) -> Parsed {
    let mut errors = Vec::new();
    let member = member_ref(w).map_err(|e| errors.push(e)).ok();
    let mut fail = |field, problem| errors.push(RowError { field, problem });
    let kind = member.as_ref().map(|(_, k)| *k);
    let selected = match (Selected::parse(w.selected()), kind) {
        (Some(Selected::None), _) => Err(Problem::NoneCannotBeSet),
        // a location's values on a member row, or a member's on a location row
        (Some(selected), Some(kind)) if !kind.spec().settable.contains(&selected) => {
            Err(Problem::NotForKind { selected, kind })
        }
        (Some(s), _) => Ok(s),
        (None, _) if w.selected().is_empty() => Err(Problem::Empty),
        (None, _) => Err(Problem::UnknownSelected(excerpt(w.selected()))),
    }
    .map_err(|p| fail(Field::Selected, p))
    .ok();
    // every pair spelled out: a new `selected` value must say what it needs
    let setting = match selected.map(|s| (s, w.target().is_empty())) {
        None => None,
        Some((Selected::LocationMemberNumber, true)) => {
            fail(Field::LocationMember, Problem::TargetRequired { has_column: has_target_column });
            None
        }
        Some((Selected::LocationMemberNumber, false)) => target_ref(w.target(), country)
            .map(Setting::LocationMember)
            .map_err(|p| fail(Field::LocationMember, p))
            .ok(),
        Some((Selected::DirectLine | Selected::LocationEcbn | Selected::LocationNumber | Selected::None, false)) => {
            fail(Field::LocationMember, Problem::TargetNotAllowed(excerpt(w.target())));
            None
        }
        Some((Selected::DirectLine, true)) => Some(Setting::DirectLine),
        Some((Selected::LocationEcbn, true)) => Some(Setting::LocationEcbn),
        Some((Selected::LocationNumber, true)) => Some(Setting::LocationNumber),
        Some((Selected::None, true)) => None, // refused above: NONE cannot be set
    };
    match (member, setting) {
        (Some((member, kind)), Some(setting)) if errors.is_empty() => Ok(Desired { member, kind, setting }),
        _ => Err(RowErrors(errors)),
    }
}

/// Only the member and its kind (`export --people`).
pub(super) fn member(w: &Cells) -> Result<Named, RowErrors> {
    member_ref(w).map(|(member, kind)| Named { member, kind }).map_err(|e| RowErrors(vec![e]))
}

/// The member and its kind: from the ID's type (an email is a person), which a `kind`
/// cell, when given, must agree with.
fn member_ref(w: &Cells) -> Result<(MemberRef, Kind), RowError> {
    let raw = w.member();
    let bad = |problem| RowError { field: Field::Member, problem };
    let (member, kind) = if raw.is_empty() {
        return Err(bad(Problem::Empty));
    } else if raw.contains('@') {
        if !is_email(raw) {
            return Err(bad(Problem::NotAnEmail(excerpt(raw))));
        }
        (MemberRef::Email(Email::new(raw)), Kind::Person)
    } else {
        let id = WebexId::parse(raw).ok_or_else(|| bad(Problem::UnknownMember(excerpt(raw))))?;
        let Some(kind) = Kind::of_id(id.kind()) else {
            let type_name = WebexId::type_name(raw).unwrap_or_default().into();
            return Err(bad(Problem::NoEcbn { cell: excerpt(raw), kind: id.kind(), type_name }));
        };
        (MemberRef::Id(id), kind)
    };
    match (w.kind().is_empty(), Kind::parse(w.kind())) {
        (true, _) => Ok((member, kind)),
        (false, Some(k)) if k == kind => Ok((member, kind)),
        (false, Some(_)) => Err(RowError {
            field: Field::Kind,
            problem: Problem::KindContradicts { cell: excerpt(w.kind()), actual: kind },
        }),
        (false, None) => Err(RowError { field: Field::Kind, problem: Problem::UnknownKind(excerpt(w.kind())) }),
    }
}

fn target_ref(raw: &str, country: Country) -> Result<TargetRef, Problem> {
    if raw.contains('@') {
        return if is_email(raw) {
            Ok(TargetRef::Email(Email::new(raw)))
        } else {
            Err(Problem::NotAnEmail(excerpt(raw)))
        };
    }
    if let Some(id) = WebexId::parse(raw) {
        return if id.kind().is_member() {
            Ok(TargetRef::Id(id))
        } else {
            Err(Problem::NotAMember { cell: excerpt(raw), kind: id.kind() })
        };
    }
    if phone::looks_like_phone(raw) {
        return phone::normalize(raw, country)
            .map(|n| TargetRef::Phone(n.into()))
            .ok_or_else(|| Problem::IncompletePhone { cell: excerpt(raw), country });
    }
    Err(Problem::UnknownTarget(excerpt(raw)))
}
