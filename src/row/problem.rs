//! What can be wrong with a row (the file's fault), each problem in its column; text
//! only when a report line or a diagnostic is written.

use super::Email;
use crate::ids::{IdKind, Kind};
use std::fmt;

/// Longest cell excerpt quoted back in a message (cells may be megabytes long).
const QUOTE_MAX: usize = 60;

/// The column a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Member,
    Selected,
    LocationMember,
    Kind,
    /// The row as a whole (ragged, undecodable).
    Row,
}

/// What is wrong with a row (the file's fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Empty,
    NotAnEmail(Box<str>),
    /// An ID of a type that has no ECBN of its own (a hunt group, a location, …).
    NoEcbn {
        cell: Box<str>,
        kind: IdKind,
        type_name: Box<str>,
    },
    /// The `kind` cell says one kind, the member's ID or email another.
    KindContradicts {
        cell: Box<str>,
        actual: Kind,
    },
    UnknownKind(Box<str>),
    NotAMember {
        cell: Box<str>,
        kind: IdKind,
    },
    UnknownMember(Box<str>),
    UnknownTarget(Box<str>),
    NoneCannotBeSet,
    UnknownSelected(Box<str>),
    /// A value of another kind: a location's on a member's row, or a member's on a
    /// location's.
    NotForKind {
        selected: crate::wire::Selected,
        kind: Kind,
    },
    TargetRequired {
        has_column: bool,
    },
    TargetNotAllowed(Box<str>),
    IncompletePhone {
        cell: Box<str>,
        country: crate::phone::Country,
    },
    PointsAtItself,
    Duplicate {
        other_lines: Vec<u32>,
    },
    Ragged {
        found: usize,
        expected: usize,
    },
    NotUtf8,
    UnknownEmail(Email),
    AmbiguousEmail {
        email: Email,
        matches: usize,
    },
    InactiveNumber {
        number: Box<str>,
        state: Box<str>,
    },
    NumberWithoutOwner(Box<str>),
    NotATarget(Box<str>),
    /// `--require-callback`: the change would leave the member with no callback number.
    NoCallback(crate::wire::Selected),
}

/// A problem and the column it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowError {
    pub(crate) field: Field,
    pub(crate) problem: Problem,
}

/// Every problem found in a row, in the order found (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowErrors(pub(crate) Vec<RowError>);

impl RowErrors {
    pub(crate) fn one(field: Field, problem: Problem) -> RowErrors {
        RowErrors(vec![RowError { field, problem }])
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::desired::DesiredColumn as C;
        f.write_str(match self {
            Field::Member => C::Member.name(),
            Field::Selected => C::Selected.name(),
            Field::LocationMember => C::LocationMember.name(),
            Field::Kind => C::Kind.name(),
            Field::Row => "row",
        })
    }
}

const CHOICES: &str =
    "DIRECT_LINE, LOCATION_ECBN or LOCATION_MEMBER_NUMBER; for a location LOCATION_NUMBER or LOCATION_MEMBER_NUMBER";

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        if self.field != Field::Row {
            write!(f, "{}: ", self.field)?;
        }
        match &self.problem {
            Empty if self.field == Field::Selected => write!(f, "empty (expected {CHOICES})"),
            Empty => f.write_str(
                "empty (expected the Webex ID of a person, workspace, virtual line or location, or an email address)",
            ),
            NotAnEmail(c) => write!(f, "`{c}` is not a valid email address"),
            NoEcbn { cell, kind: IdKind::HuntGroup, .. } => {
                write!(f, "`{cell}` is a HUNT_GROUP ID: hunt groups have no ECBN of their own")
            }
            NoEcbn { cell, type_name, .. } => write!(
                f,
                "`{cell}` is a {type_name} ID: only people, workspaces, virtual lines and locations have an ECBN of their own"
            ),
            KindContradicts { cell, actual } => {
                write!(f, "`{cell}` contradicts the member, which is a {}", actual.noun())
            }
            UnknownKind(c) => {
                let names: Vec<&str> = crate::ids::KINDS.iter().map(|k| k.name).collect();
                write!(f, "unknown value `{c}` (expected one of {})", names.join(", "))
            }
            NotAMember { cell, kind } => write!(
                f,
                "`{cell}` is a {} ID, not a member (person, workspace, virtual line or hunt group)",
                kind.as_str()
            ),
            UnknownMember(c) => write!(
                f,
                "`{c}` is neither an email address nor a decodable Webex ID of a person, workspace, virtual line or location"
            ),
            UnknownTarget(c) => write!(f, "`{c}` is neither a member ID, an email address nor a phone number"),
            NoneCannotBeSet => write!(f, "NONE cannot be set; choose a value ({CHOICES})"),
            UnknownSelected(c) => write!(f, "unknown value `{c}` (expected {CHOICES})"),
            NotForKind { selected, kind } => {
                let values: Vec<&str> = kind.spec().settable.iter().map(|s| s.as_str()).collect();
                write!(f, "{selected} is not a value of a {} (expected {})", kind.noun(), values.join(" or "))
            }
            TargetRequired { has_column } => {
                let why = if *has_column { "" } else { " (the file has no location_member column)" };
                write!(f, "required when selected is LOCATION_MEMBER_NUMBER{why}")
            }
            TargetNotAllowed(c) => write!(f, "must be empty unless selected is LOCATION_MEMBER_NUMBER (found `{c}`)"),
            IncompletePhone { cell, country } => write!(
                f,
                "`{cell}` is not a complete phone number (write it with + and the country code, or set default_country; now `{country}`)"
            ),
            PointsAtItself => f.write_str("the row points at its own member"),
            Duplicate { other_lines } => {
                let lines: Vec<String> = other_lines.iter().map(u32::to_string).collect();
                write!(f, "the same member appears again on line {}", lines.join(", "))
            }
            Ragged { found, expected } => write!(f, "ragged row: {found} fields where the header has {expected}"),
            NotUtf8 => f.write_str("undecodable bytes (the file must be UTF-8)"),
            UnknownEmail(e) => write!(f, "no person with the email `{e}`"),
            AmbiguousEmail { email, matches } => write!(f, "the email `{email}` matches {matches} people"),
            InactiveNumber { number, state } => write!(f, "{number} is not an active number (state {state})"),
            NumberWithoutOwner(n) => {
                write!(f, "{n} belongs to no member (a location number cannot be a member target)")
            }
            NotATarget(n) => write!(
                f,
                "{n} is not a valid ECBN target for this person (no active number of a member of their location)"
            ),
            NoCallback(selected) => write!(
                f,
                "{selected} would leave this member with no emergency callback number (refused: --require-callback)"
            ),
        }
    }
}

impl fmt::Display for RowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A cell quoted in a message, cut to a readable length.
pub(crate) fn excerpt(s: &str) -> Box<str> {
    if s.chars().count() <= QUOTE_MAX {
        s.into()
    } else {
        let head: String = s.chars().take(QUOTE_MAX).collect();
        format!("{head}…").into()
    }
}
