//! A record's cells to typed values: every problem of a row, each with its column.

use crate::ids::{IdKind, WebexId};
use crate::phone::{self, Country};
use crate::row::{
    Desired, Email, Field, MemberRef, Parsed, Problem, RowError, RowErrors, Setting, TargetRef, Written, excerpt,
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
pub(super) fn desired(w: &Written, has_target_column: bool, country: Country) -> Parsed {
    let mut errors = Vec::new();
    let mut fail = |field, problem| errors.push(RowError { field, problem });
    let member = member_ref(&w.member).map_err(|p| fail(Field::Member, p)).ok();
    let selected = match Selected::parse(&w.selected) {
        Some(Selected::None) => Err(Problem::NoneCannotBeSet),
        Some(s) => Ok(s),
        None if w.selected.is_empty() => Err(Problem::Empty),
        None => Err(Problem::UnknownSelected(excerpt(&w.selected))),
    }
    .map_err(|p| fail(Field::Selected, p))
    .ok();
    let setting = match selected {
        Some(Selected::LocationMemberNumber) if w.target.is_empty() => {
            fail(Field::LocationMember, Problem::TargetRequired { has_column: has_target_column });
            None
        }
        Some(Selected::LocationMemberNumber) => {
            target_ref(&w.target, country).map(Setting::LocationMember).map_err(|p| fail(Field::LocationMember, p)).ok()
        }
        Some(_) if !w.target.is_empty() => {
            fail(Field::LocationMember, Problem::TargetNotAllowed(excerpt(&w.target)));
            None
        }
        Some(Selected::DirectLine) => Some(Setting::DirectLine),
        Some(_) => Some(Setting::LocationEcbn),
        None => None,
    };
    match (member, setting) {
        (Some(member), Some(setting)) if errors.is_empty() => Ok(Desired { member, setting }),
        _ => Err(RowErrors(errors)),
    }
}

/// Only the member cell (`export --people`).
pub(super) fn member(cell: &str) -> Result<MemberRef, RowErrors> {
    member_ref(cell).map_err(|p| RowErrors::one(Field::Member, p))
}

fn member_ref(raw: &str) -> Result<MemberRef, Problem> {
    if raw.is_empty() {
        return Err(Problem::Empty);
    }
    if raw.contains('@') {
        return if is_email(raw) {
            Ok(MemberRef::Email(Email::new(raw)))
        } else {
            Err(Problem::NotAnEmail(excerpt(raw)))
        };
    }
    match WebexId::parse(raw) {
        Some(id) if id.kind() == IdKind::People => Ok(MemberRef::Id(id)),
        Some(id) => Err(Problem::NotAPerson { cell: excerpt(raw), kind: id.kind() }),
        None => Err(Problem::UnknownMember(excerpt(raw))),
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
