//! How a row ends (its action and the reason behind it), and what is worth saying
//! about today's callback number.

use super::{Email, Field, RowErrors};
use crate::ids::Kind;
use crate::report::Action;
use crate::webex::ApiError;
use std::fmt;

/// Something an auditor should know about today's callback number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Warning {
    NoNumber,
    FallsBack { to: Box<str>, level: Box<str> },
    NotRecommended,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NoNumber => f.write_str("warning: an emergency callback reaches no number today"),
            Warning::FallsBack { to, level } => {
                write!(f, "warning: the selected number is not valid; callbacks fall back to {to} ({level})")
            }
            Warning::NotRecommended => f.write_str("warning: the callback number is NOT_RECOMMENDED"),
        }
    }
}

/// Why a row failed (not the file's fault).
#[derive(Debug)]
pub(crate) enum Failure {
    Api(ApiError),
    /// A `selected` the tool does not know: never written.
    UnknownCurrent(Box<str>),
    /// Resolving an email or a phone number failed on the API's side.
    Lookup {
        field: Field,
        subject: LookedUp,
        error: ApiError,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Api(e) => write!(f, "{e}"),
            Failure::UnknownCurrent(v) => write!(f, "unknown current value `{v}`: not changed"),
            Failure::Lookup { field, subject, error } => write!(f, "{field}: looking up {subject} failed: {error}"),
        }
    }
}

/// What a look-up was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookedUp {
    Email(Email),
    Phone(Box<str>),
}

impl fmt::Display for LookedUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookedUp::Email(e) => write!(f, "`{e}`"),
            LookedUp::Phone(n) => f.write_str(n),
        }
    }
}

/// Why a row was not attempted (or, for `plan`, why an update was held back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Held {
    RunStopped,
    InvalidRows,
    UnresolvedRows,
    /// `--require-callback` refused rows of the file.
    NoCallbackRows,
    /// The token could not be loaded; the message says why.
    NoToken(String),
    Limit(u64),
    MaxFailures,
    /// A report or the rollback file could not be written: no PUT is sent after that.
    StorageFailed(String),
    MaxChanges {
        changes: usize,
        max: u64,
    },
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Held::RunStopped => f.write_str("not attempted: the run stopped"),
            Held::InvalidRows => f.write_str("not attempted: the file has invalid rows; nothing was sent"),
            Held::UnresolvedRows => {
                f.write_str("not attempted: rows of the file could not be resolved; nothing was written")
            }
            Held::NoCallbackRows => f.write_str(
                "not attempted: rows of the file would leave members with no callback number; nothing was written",
            ),
            Held::NoToken(m) => write!(f, "not attempted: {m}"),
            Held::Limit(k) => write!(f, "not written: --limit {k} reached"),
            Held::MaxFailures => f.write_str("not attempted: --max-failures reached"),
            Held::StorageFailed(path) => write!(f, "not attempted: writes stopped, {path} cannot be written"),
            Held::MaxChanges { changes, max } => {
                write!(f, "{changes} changes exceed --max-changes {max}; nothing was written")
            }
        }
    }
}

/// Why a differing member is not written (the skip rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Skip {
    Dependents { count: u64, of: Kind },
    LocationDefault { of: Kind },
    InFile { line: u32, of: Kind },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Dependents { count: 1, of } => {
                write!(f, "1 member uses this {} as ECBN (dependents rule)", of.noun())
            }
            Skip::Dependents { count, of } => {
                write!(f, "{count} members use this {} as ECBN (dependents rule)", of.noun())
            }
            Skip::LocationDefault { of } => {
                let whose = of.spec().possessive;
                write!(f, "this {}'s number is {whose} location's ECBN (location-default rule)", of.noun())
            }
            Skip::InFile { line, of } => write!(
                f,
                "line {line} of this file sets this {} as its LOCATION_MEMBER_NUMBER target (in-file rule)",
                of.noun()
            ),
        }
    }
}

/// How a row ends: its report action and the reason behind it.
#[derive(Debug)]
pub(crate) enum Verdict {
    Valid,
    InSync,
    WouldUpdate(Option<Held>),
    Updated,
    Skipped(Skip),
    Invalid(RowErrors),
    Failed(Failure),
    NotAttempted(Held),
}

impl Verdict {
    pub(crate) fn action(&self) -> Action {
        match self {
            Verdict::Valid => Action::Valid,
            Verdict::InSync => Action::InSync,
            Verdict::WouldUpdate(_) => Action::WouldUpdate,
            Verdict::Updated => Action::Updated,
            Verdict::Skipped(_) => Action::SkippedHasDependents,
            Verdict::Invalid(_) => Action::Invalid,
            Verdict::Failed(_) => Action::Failed,
            Verdict::NotAttempted(_) => Action::NotAttempted,
        }
    }

    /// The report's `message`, before any warning about today's number is added.
    pub(crate) fn message(&self) -> String {
        match self {
            Verdict::Valid | Verdict::InSync | Verdict::Updated | Verdict::WouldUpdate(None) => String::new(),
            Verdict::WouldUpdate(Some(h)) | Verdict::NotAttempted(h) => h.to_string(),
            Verdict::Skipped(s) => s.to_string(),
            Verdict::Invalid(e) => e.to_string(),
            Verdict::Failed(e) => e.to_string(),
        }
    }
}
