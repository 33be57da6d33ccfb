//! Reports: the per-row CSV (streamed, flushed per row), the JSON summary (atomic), the
//! rollback file (appended and flushed before each PUT), and the stdout lines.

mod appender;
pub(crate) mod columns;
mod files;
pub(crate) mod housekeeping;
pub(crate) mod html;
pub(crate) mod metrics;
pub(crate) mod names;
pub(crate) mod notify;
mod printer;
mod recorder;

pub(crate) use columns::Column;
pub(crate) use files::ReportSet;
pub(crate) use printer::Printer;
pub(crate) use recorder::{Record, Recorder};

use crate::phone;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    InSync,
    WouldUpdate,
    Updated,
    SkippedHasDependents,
    Invalid,
    Failed,
    NotAttempted,
    #[default]
    Valid,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::InSync => "in_sync",
            Action::WouldUpdate => "would_update",
            Action::Updated => "updated",
            Action::SkippedHasDependents => "skipped_has_dependents",
            Action::Invalid => "invalid",
            Action::Failed => "failed",
            Action::NotAttempted => "not_attempted",
            Action::Valid => "valid",
        }
    }

    /// A change: written (`apply`) or to be written (`plan`).
    pub(crate) fn is_change(self) -> bool {
        matches!(self, Action::WouldUpdate | Action::Updated)
    }

    /// The actions of `plan` and `apply`, in the summary's order.
    pub(crate) const RUN: [Action; 7] = [
        Action::InSync,
        Action::WouldUpdate,
        Action::Updated,
        Action::SkippedHasDependents,
        Action::Invalid,
        Action::Failed,
        Action::NotAttempted,
    ];
}

/// One line of the per-row report, borrowing from the row it describes.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowLine<'a> {
    pub(crate) line: u32,
    pub(crate) member: &'a str,
    pub(crate) member_id: &'a str,
    /// Empty when the row is invalid before its kind is known.
    pub(crate) kind: &'a str,
    pub(crate) action: Action,
    pub(crate) current_selected: &'a str,
    pub(crate) current_location_member_id: &'a str,
    pub(crate) desired_selected: &'a str,
    pub(crate) desired_location_member_id: &'a str,
    pub(crate) dependent_member_count: Option<u64>,
    pub(crate) http_status: Option<u16>,
    pub(crate) attempts: u32,
    pub(crate) message: Cow<'a, str>,
    pub(crate) current_effective_number: &'a str,
    pub(crate) current_effective_quality: &'a str,
    pub(crate) desired_effective_number: &'a str,
    pub(crate) desired_effective_quality: &'a str,
}

impl RowLine<'_> {
    /// The cells in the file's order ([`Column::ALL`]), escaped for spreadsheets.
    fn cells(&self) -> [Cow<'_, str>; 17] {
        Column::ALL.map(|c| self.cell(c))
    }

    fn cell(&self, c: Column) -> Cow<'_, str> {
        let num = |v: Option<u64>| Cow::Owned(v.map(|n| n.to_string()).unwrap_or_default());
        match c {
            Column::Line => self.line.to_string().into(),
            Column::Member => escape_cell(self.member),
            Column::MemberId => escape_cell(self.member_id),
            Column::Kind => self.kind.into(),
            Column::Action => self.action.as_str().into(),
            Column::CurrentSelected => escape_cell(self.current_selected),
            Column::CurrentLocationMemberId => escape_cell(self.current_location_member_id),
            Column::DesiredSelected => escape_cell(self.desired_selected),
            Column::DesiredLocationMemberId => escape_cell(self.desired_location_member_id),
            Column::DependentMemberCount => num(self.dependent_member_count),
            Column::HttpStatus => num(self.http_status.map(u64::from)),
            Column::Attempts => self.attempts.to_string().into(),
            Column::Message => escape_cell(&self.message),
            Column::CurrentEffectiveNumber => escape_cell(self.current_effective_number),
            Column::CurrentEffectiveQuality => escape_cell(self.current_effective_quality),
            Column::DesiredEffectiveNumber => escape_cell(self.desired_effective_number),
            Column::DesiredEffectiveQuality => escape_cell(self.desired_effective_quality),
        }
    }
}

/// Keep spreadsheets from running a cell as a formula.
pub(crate) fn escape_cell(s: &str) -> Cow<'_, str> {
    let risky = match s.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !phone::looks_like_phone(s),
        _ => false,
    };
    if risky { format!("'{s}").into() } else { s.into() }
}

/// `YYYYMMDDTHHMMSSZ` (for file names) and RFC 3339 for a UTC instant, to the second.
pub(crate) fn timestamps(t: SystemTime) -> (String, String) {
    let iso = humantime::format_rfc3339_seconds(t).to_string();
    (iso.replace(['-', ':'], ""), iso)
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    pub(crate) mode: &'static str,
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    pub(crate) duration_ms: u64,
    pub(crate) desired_file: String,
    pub(crate) report_files: Vec<String>,
    pub(crate) rows: usize,
    pub(crate) counts: BTreeMap<&'static str, u64>,
    /// Per member kind, the same counts (not in `export`'s summary).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) counts_by_kind: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    pub(crate) requests: BTreeMap<String, u64>,
    pub(crate) http_status: BTreeMap<String, u64>,
    pub(crate) retries: u64,
    /// How the run was paced: `mode`, `final` and `max_reached` rates.
    pub(crate) rate: crate::webex::RateReport,
    /// The most requests on the wire at once, and the limit at the end.
    pub(crate) in_flight: crate::webex::FlightReport,
    /// Answered attempts' times: `p50`, `p90`, `p99` (ms).
    pub(crate) latency_ms: crate::webex::LatencyReport,
    /// `plan`/`apply`: the rows read, by the quality of the number a callback would
    /// reach after the run (`none` when no number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) predicted_quality: Option<BTreeMap<&'static str, u64>>,
    pub(crate) rerun_needed: bool,
    pub(crate) rollback_unrestorable: Vec<String>,
    pub(crate) exit_code: i32,
}

pub(crate) fn write_summary(path: &Path, s: &Summary) -> std::io::Result<()> {
    crate::atomic::write_json(path, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn escaping() {
        assert_eq!(escape_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(escape_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape_cell("+14085550101"), "+14085550101");
        assert_eq!(escape_cell("-1+2"), "'-1+2");
        assert_eq!(escape_cell("\tx"), "'\tx");
        assert_eq!(escape_cell("alice@example.com"), "alice@example.com");
    }

    #[test]
    fn timestamp_format() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_946_400); // 2026-11-29T10:00:00Z
        let (ts, iso) = timestamps(t);
        assert_eq!(ts, "20261129T100000Z");
        assert_eq!(iso, "2026-11-29T10:00:00Z");
        assert_eq!(timestamps(UNIX_EPOCH).0, "19700101T000000Z");
    }
}
