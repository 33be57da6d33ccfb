//! A row of the desired file on its way through a run.
//!
//! One [`Row`] value per row moves from stage to stage — parsed, resolved, read,
//! decided — and ends in the report with a [`Verdict`]. The stage `S` says what is
//! known about the row's wish; the [`Trail`] collects what the run learned on the way
//! (attempts, the last status, what the API said). Problems are typed values; they
//! become text only when the report line is written.

use crate::ids::{Kind, WebexId};
use crate::webex::Tally;
use crate::wire::Selected;
use std::borrow::Cow;
use std::fmt;

mod prediction;
mod problem;
mod rows;
mod verdict;
mod written;

pub(crate) use prediction::{Concern, Forecast, Prediction, QUALITY_KEYS};
pub(crate) use problem::{Field, Problem, RowError, RowErrors, excerpt};
pub(crate) use rows::Rows;
pub(crate) use verdict::{Failure, Held, LookedUp, Skip, Verdict, Warning};
pub(crate) use written::{Cells, Written};

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

/// A member as a file names it, with its kind (all `export --people` reads of a row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) member: MemberRef,
    pub(crate) kind: Kind,
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
    /// A location's own main number.
    LocationNumber,
}

impl<T> Setting<T> {
    pub(crate) fn selected(&self) -> Selected {
        match self {
            Setting::DirectLine => Selected::DirectLine,
            Setting::LocationEcbn => Selected::LocationEcbn,
            Setting::LocationMember(_) => Selected::LocationMemberNumber,
            Setting::LocationNumber => Selected::LocationNumber,
        }
    }
    pub(crate) fn target(&self) -> Option<&T> {
        match self {
            Setting::LocationMember(t) => Some(t),
            Setting::DirectLine | Setting::LocationEcbn | Setting::LocationNumber => None,
        }
    }
}

/// A row that passed the offline checks: what it wants, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Desired {
    pub(crate) member: MemberRef,
    pub(crate) kind: Kind,
    pub(crate) setting: Setting<TargetRef>,
}

impl Desired {
    /// The emails the row names (its member, its target): what resolution looks up.
    pub(crate) fn emails(&self) -> impl Iterator<Item = &Email> {
        let member = match &self.member {
            MemberRef::Email(e) => Some(e),
            MemberRef::Id(_) => None,
        };
        let target = match self.setting.target() {
            Some(TargetRef::Email(e)) => Some(e),
            _ => None,
        };
        member.into_iter().chain(target)
    }
}

/// A row whose member and target are known by ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) member: WebexId,
    pub(crate) kind: Kind,
    pub(crate) setting: Setting<WebexId>,
    /// What resolution learned of the target (boxed: most rows have none).
    pub(crate) found: Option<Box<Found>>,
}

/// A target resolution looked up: an owner of a phone number, a person with an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// The target as a person reads it.
    pub(crate) label: Box<str>,
    /// A target given as a phone number: that number, as resolution found it.
    pub(crate) number: Option<FoundNumber>,
}

/// A phone-number target as `availableNumbers` showed it: the number as the API wrote
/// it, and its quality by the API's rule (from its state and its owner's type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundNumber {
    pub(crate) number: Box<str>,
    pub(crate) quality: &'static str,
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
    /// Boxed: most of a big run's rows wait unread, and a reading is large.
    pub(crate) read: Option<Box<Reading>>,
}

impl Trail {
    /// Book a request made for the row: its attempts and its last status.
    pub(crate) fn account(&mut self, call: Tally) {
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
    /// The member's own name (the direct-line block's).
    pub(crate) member_name: Option<Box<str>>,
    /// The member configured as LOCATION_MEMBER_NUMBER target (now or earlier), and its
    /// label (the location-member block's).
    pub(crate) configured: Option<(WebexId, Box<str>)>,
    /// The number a callback would reach once the row's wish is in place.
    pub(crate) predicted: Prediction,
    /// The member's location, as the location block names it.
    pub(crate) location: Option<Box<str>>,
}

/// What a stage knows of a row's wish, for the report; `None` shows the cell as written.
#[derive(Debug, Default)]
pub(crate) struct Wish<'a> {
    pub(crate) member_id: Option<Cow<'a, str>>,
    pub(crate) kind: Option<Kind>,
    /// The target as a person reads it, when known.
    pub(crate) target_label: Option<&'a str>,
    pub(crate) selected: Option<Selected>,
    pub(crate) target_id: Option<Cow<'a, str>>,
}

/// A stage a row can be reported at.
pub(crate) trait Stage {
    fn wish(&self) -> Wish<'_>;
}

impl Stage for Desired {
    fn wish(&self) -> Wish<'_> {
        Wish {
            member_id: match &self.member {
                MemberRef::Id(id) => Some(id.spelling()),
                MemberRef::Email(_) => None,
            },
            kind: Some(self.kind),
            target_label: None,
            selected: Some(self.setting.selected()),
            target_id: match self.setting.target() {
                Some(TargetRef::Id(id)) => Some(id.spelling()),
                _ => None,
            },
        }
    }
}

impl Stage for Resolved {
    fn wish(&self) -> Wish<'_> {
        Wish {
            member_id: Some(self.member.spelling()),
            kind: Some(self.kind),
            target_label: self.found.as_ref().map(|f| &*f.label),
            selected: Some(self.setting.selected()),
            target_id: self.setting.target().map(WebexId::spelling),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// A big run holds every row it has not finished; what waits must stay small (a
    /// million rows of IDs in their canonical spelling hold no text at all).
    #[test]
    fn waiting_rows_stay_small() {
        assert_eq!(size_of::<WebexId>(), 32);
        assert_eq!(size_of::<Written>(), 8);
        assert!(size_of::<Trail>() <= 32, "Trail: {} bytes", size_of::<Trail>());
        assert!(size_of::<Row<Parsed>>() <= 120, "Row<Parsed>: {} bytes", size_of::<Row<Parsed>>());
        assert!(size_of::<Row<Resolved>>() <= 128, "Row<Resolved>: {} bytes", size_of::<Row<Resolved>>());
    }
}
