//! A row of the desired file on its way through a run.
//!
//! One [`Row`] value per row moves from stage to stage — parsed, resolved, read,
//! decided — and ends in the report with a [`Verdict`]. The stage `S` says what is
//! known about the row's wish; the [`Trail`] collects what the run learned on the way
//! (attempts, the last status, what the API said). Problems are typed values; they
//! become text only when the report line is written.

use crate::ids::{IdKind, WebexId};
use crate::report::Action;
use crate::webex::ApiError;
use crate::wire::Selected;
use std::fmt;

/// Longest cell excerpt quoted back in a message (cells may be megabytes long).
const QUOTE_MAX: usize = 60;

/// A row of the desired file, with the stage it has reached.
#[derive(Debug)]
pub(crate) struct Row<S> {
    /// Physical line (CSV) or sheet row number (xlsx) where the record starts.
    pub(crate) line: u32,
    pub(crate) written: Written,
    pub(crate) trail: Trail,
    pub(crate) stage: S,
}

impl<S> Row<S> {
    /// The same row at its next stage.
    pub(crate) fn map<T>(self, f: impl FnOnce(S) -> T) -> Row<T> {
        Row { line: self.line, written: self.written, trail: self.trail, stage: f(self.stage) }
    }

    /// The row without its stage (a row reported as written), and the stage.
    pub(crate) fn detach(self) -> (Row<()>, S) {
        let Row { line, written, trail, stage } = self;
        (Row { line, written, trail, stage: () }, stage)
    }
}

impl Row<()> {
    /// The row at a stage again.
    pub(crate) fn attach<T>(self, stage: T) -> Row<T> {
        self.map(|()| stage)
    }
}

/// The row's cells as written (trimmed, a leading `'` stripped): the report shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) member: Box<str>,
    pub(crate) selected: Box<str>,
    pub(crate) target: Box<str>,
}

/// An email address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Email(Box<str>);

impl Email {
    pub(crate) fn new(s: &str) -> Email {
        Email(s.to_lowercase().into())
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whom a row is about, as the file names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberRef {
    Id(WebexId),
    Email(Email),
}

/// The LOCATION_MEMBER_NUMBER target, as the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetRef {
    Id(WebexId),
    Email(Email),
    /// Normalised `+E.164`.
    Phone(Box<str>),
}

/// An ECBN setting that can be written, with its LOCATION_MEMBER_NUMBER target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting<T> {
    DirectLine,
    LocationEcbn,
    LocationMember(T),
}

impl<T> Setting<T> {
    pub(crate) fn selected(&self) -> Selected {
        match self {
            Setting::DirectLine => Selected::DirectLine,
            Setting::LocationEcbn => Selected::LocationEcbn,
            Setting::LocationMember(_) => Selected::LocationMemberNumber,
        }
    }
    pub(crate) fn target(&self) -> Option<&T> {
        match self {
            Setting::LocationMember(t) => Some(t),
            _ => None,
        }
    }
}

/// A row that passed the offline checks: what it wants, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Desired {
    pub(crate) member: MemberRef,
    pub(crate) setting: Setting<TargetRef>,
}

/// A row whose member and target are known by ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) member: WebexId,
    pub(crate) setting: Setting<WebexId>,
}

/// The stage of a row just read from the file.
pub(crate) type Parsed = Result<Desired, RowErrors>;

/// Why a row could not be resolved.
#[derive(Debug)]
pub(crate) enum Unresolved {
    /// The file is wrong (an unknown email, a number that is no target).
    Invalid(RowErrors),
    /// A look-up failed on the API's side.
    Failed(Failure),
    /// The run stopped before the row's look-ups were made.
    Stopped,
}

/// A read row that differs from its wish: what it wants and what it has.
#[derive(Debug)]
pub(crate) struct Differs {
    pub(crate) want: Resolved,
    pub(crate) current: Current,
}

/// The current value as the tool understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Current {
    pub(crate) selected: Selected,
    /// Only set when `selected` is LOCATION_MEMBER_NUMBER.
    pub(crate) member: Option<WebexId>,
}

/// What the run learned about a row, for its report line.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub(crate) attempts: u32,
    /// The last HTTP status of the row's requests.
    pub(crate) http_status: Option<u16>,
    pub(crate) dependents: Option<u64>,
    pub(crate) read: Option<Reading>,
}

impl Trail {
    /// Book a request of the row: its attempts and its last status.
    pub(crate) fn account<T>(&mut self, call: &crate::webex::Call<T>) {
        self.attempts += call.attempts;
        if call.status.is_some() {
            self.http_status = call.status;
        }
    }
}

/// What the row's ECBN GET said.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    /// `selected` as the API wrote it (it may be a value the tool does not know).
    pub(crate) selected: Box<str>,
    pub(crate) current: Option<Current>,
    /// The number an emergency callback reaches today, and its quality.
    pub(crate) effective_number: Box<str>,
    pub(crate) effective_quality: Box<str>,
    pub(crate) warning: Option<Warning>,
}

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

/// The column a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Member,
    Selected,
    LocationMember,
    /// The row as a whole (ragged, undecodable).
    Row,
}

/// What is wrong with a row (the file's fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Empty,
    NotAnEmail(Box<str>),
    NotAPerson { cell: Box<str>, kind: IdKind },
    NotAMember { cell: Box<str>, kind: IdKind },
    UnknownMember(Box<str>),
    UnknownTarget(Box<str>),
    NoneCannotBeSet,
    UnknownSelected(Box<str>),
    TargetRequired { has_column: bool },
    TargetNotAllowed(Box<str>),
    IncompletePhone { cell: Box<str>, country: crate::phone::Country },
    PointsAtItself,
    Duplicate { other_lines: Vec<u32> },
    Ragged { found: usize, expected: usize },
    NotUtf8,
    UnknownEmail(Email),
    AmbiguousEmail { email: Email, matches: usize },
    InactiveNumber { number: Box<str>, state: Box<str> },
    NumberWithoutOwner(Box<str>),
    NotATarget(Box<str>),
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
        f.write_str(match self {
            Field::Member => "person",
            Field::Selected => "selected",
            Field::LocationMember => "location_member",
            Field::Row => "row",
        })
    }
}

const CHOICES: &str = "DIRECT_LINE, LOCATION_ECBN or LOCATION_MEMBER_NUMBER";

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        if self.field != Field::Row {
            write!(f, "{}: ", self.field)?;
        }
        match &self.problem {
            Empty if self.field == Field::Selected => write!(f, "empty (expected {CHOICES})"),
            Empty => f.write_str("empty (expected a Webex person ID or an email address)"),
            NotAnEmail(c) => write!(f, "`{c}` is not a valid email address"),
            NotAPerson { cell, kind } => write!(
                f,
                "`{cell}` is a {} ID: people only (workspaces, virtual lines and others are not handled)",
                kind.as_str()
            ),
            NotAMember { cell, kind } => write!(
                f,
                "`{cell}` is a {} ID, not a member (person, workspace, virtual line or hunt group)",
                kind.as_str()
            ),
            UnknownMember(c) => write!(f, "`{c}` is neither an email address nor a decodable Webex person ID"),
            UnknownTarget(c) => write!(f, "`{c}` is neither a member ID, an email address nor a phone number"),
            NoneCannotBeSet => write!(f, "NONE cannot be set; choose a value ({CHOICES})"),
            UnknownSelected(c) => write!(f, "unknown value `{c}` (expected {CHOICES})"),
            TargetRequired { has_column } => {
                let why = if *has_column { "" } else { " (the file has no location_member column)" };
                write!(f, "required when selected is LOCATION_MEMBER_NUMBER{why}")
            }
            TargetNotAllowed(c) => write!(f, "must be empty unless selected is LOCATION_MEMBER_NUMBER (found `{c}`)"),
            IncompletePhone { cell, country } => write!(
                f,
                "`{cell}` is not a complete phone number (write it with + and the country code, or set default_country; now `{country}`)"
            ),
            PointsAtItself => f.write_str("the row points at its own person"),
            Duplicate { other_lines } => {
                let lines: Vec<String> = other_lines.iter().map(u32::to_string).collect();
                write!(f, "the same person appears again on line {}", lines.join(", "))
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
    RollbackUnwritable,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Api(e) => write!(f, "{e}"),
            Failure::UnknownCurrent(v) => write!(f, "unknown current value `{v}`: not changed"),
            Failure::Lookup { field, subject, error } => write!(f, "{field}: looking up {subject} failed: {error}"),
            Failure::RollbackUnwritable => f.write_str("not written: the rollback file cannot be written"),
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
    /// The token could not be loaded; the message says why.
    NoToken(String),
    Limit(u64),
    MaxFailures,
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
            Held::NoToken(m) => write!(f, "not attempted: {m}"),
            Held::Limit(k) => write!(f, "not written: --limit {k} reached"),
            Held::MaxFailures => f.write_str("not attempted: --max-failures reached"),
            Held::MaxChanges { changes, max } => {
                write!(f, "{changes} changes exceed --max-changes {max}; nothing was written")
            }
        }
    }
}

/// Why a differing member is not written (the skip rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Skip {
    Dependents(u64),
    LocationDefault,
    InFile { line: u32 },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Dependents(1) => f.write_str("1 member uses this person as ECBN (dependents rule)"),
            Skip::Dependents(n) => write!(f, "{n} members use this person as ECBN (dependents rule)"),
            Skip::LocationDefault => {
                f.write_str("this person's number is their location's ECBN (location-default rule)")
            }
            Skip::InFile { line } => write!(
                f,
                "line {line} of this file sets this person as its LOCATION_MEMBER_NUMBER target (in-file rule)"
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

/// What a stage knows of a row's wish, for the report; `None` shows the cell as written.
#[derive(Debug, Default)]
pub(crate) struct Wish<'a> {
    pub(crate) member_id: Option<&'a str>,
    pub(crate) selected: Option<Selected>,
    pub(crate) target_id: Option<&'a str>,
}

/// A stage a row can be reported at.
pub(crate) trait Stage {
    fn wish(&self) -> Wish<'_>;
}

impl Stage for Desired {
    fn wish(&self) -> Wish<'_> {
        Wish {
            member_id: match &self.member {
                MemberRef::Id(id) => Some(id.as_str()),
                MemberRef::Email(_) => None,
            },
            selected: Some(self.setting.selected()),
            target_id: match self.setting.target() {
                Some(TargetRef::Id(id)) => Some(id.as_str()),
                _ => None,
            },
        }
    }
}

impl Stage for Resolved {
    fn wish(&self) -> Wish<'_> {
        Wish {
            member_id: Some(self.member.as_str()),
            selected: Some(self.setting.selected()),
            target_id: self.setting.target().map(WebexId::as_str),
        }
    }
}

impl Stage for Differs {
    fn wish(&self) -> Wish<'_> {
        self.want.wish()
    }
}

/// A row reported as written: it never got a valid wish.
impl Stage for () {
    fn wish(&self) -> Wish<'_> {
        Wish::default()
    }
}

impl<T: Stage, E> Stage for Result<T, E> {
    fn wish(&self) -> Wish<'_> {
        match self {
            Ok(s) => s.wish(),
            // an invalid or failed row shows its cells as written
            Err(_) => Wish::default(),
        }
    }
}
