//! What a person reads on stdout: the lines of finished rows, with members and targets
//! named from what the run learned, and the summary line.

use super::super::Mode;
use crate::ids::WebexId;
use crate::report::{Action, names};
use crate::row::{Row, Wish};
use crate::wire::Selected;

/// `Plan: 3 to update, 10 in sync, 1 skipped, 0 invalid, 0 failed.` and its siblings.
pub(super) fn summary_line(mode: Mode, c: impl Fn(Action) -> u64) -> String {
    use Action::*;
    let line = match mode {
        Mode::Check => return format!("Check: {} valid, {} invalid.", c(Valid), c(Invalid)),
        Mode::Plan => format!(
            "Plan: {} to update, {} in sync, {} skipped, {} invalid, {} failed",
            c(WouldUpdate),
            c(InSync),
            c(SkippedHasDependents),
            c(Invalid),
            c(Failed)
        ),
        Mode::Apply => format!(
            "Apply: {} updated, {} in sync, {} skipped, {} invalid, {} failed",
            c(Updated),
            c(InSync),
            c(SkippedHasDependents),
            c(Invalid),
            c(Failed)
        ),
    };
    match c(NotAttempted) {
        0 => format!("{line}."),
        n => format!("{line}; {n} not attempted."),
    }
}

/// How a row's member and targets read on stdout.
pub(super) struct Labels {
    pub(super) member: String,
    pub(super) target: String,
    pub(super) current_target: String,
}

/// Names from what the run learned (no extra request): the ECBN GET's blocks, the
/// resolution's answers, an email the file gave; else the IDs as written.
pub(super) fn labels<S>(row: &Row<S>, wish: &Wish<'_>) -> Labels {
    let read = row.trail.read.as_deref();
    let [written_member, _, written_target] = row.written.cells(wish);
    let email = written_member.contains('@').then_some(written_member);
    let member = names::member(read.and_then(|r| r.member_name.as_deref()), email, wish.kind, written_member);
    let configured = read.and_then(|r| r.configured.as_ref());
    // the configured member's label, when `id` is that member
    let known = |id: &str| {
        let id = WebexId::from_api(id);
        configured.filter(|(c, _)| *c == id).map(|(_, label)| label.to_string())
    };
    let desired_id = wish.target_id.as_deref().unwrap_or("");
    let target = wish
        .target_label
        .map(str::to_string)
        .or_else(|| (!desired_id.is_empty()).then(|| known(desired_id)).flatten())
        .unwrap_or_else(|| if written_target.is_empty() { desired_id.to_string() } else { written_target.to_string() });
    let current_id = read.and_then(|r| r.current.as_ref()?.member.as_ref()).map(WebexId::spelling);
    let current_id = current_id.as_deref().unwrap_or("");
    let current_target = known(current_id).unwrap_or_else(|| current_id.to_string());
    Labels { member, target, current_target }
}

/// `LOCATION_MEMBER_NUMBER(target)` for stdout lines; `?` when nothing was read.
pub(super) fn describe(selected: &str, member: &str) -> String {
    if selected == Selected::LocationMemberNumber.as_str() && !member.is_empty() {
        format!("{selected}({member})")
    } else if selected.is_empty() {
        "?".into()
    } else {
        selected.to_string()
    }
}
