//! The row report's columns, each named once, in one place; everything else reads them
//! by name. (The desired-state file's are `desired::DesiredColumn`.)

/// A column of the row report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Line,
    Member,
    MemberId,
    Kind,
    Action,
    CurrentSelected,
    CurrentLocationMemberId,
    DesiredSelected,
    DesiredLocationMemberId,
    DependentMemberCount,
    HttpStatus,
    Attempts,
    Message,
    CurrentEffectiveNumber,
    CurrentEffectiveQuality,
    DesiredEffectiveNumber,
    DesiredEffectiveQuality,
}

/// The row report's columns in the file's order, with their names.
const REPORT: [(Column, &str); 17] = [
    (Column::Line, "line"),
    (Column::Member, "member"),
    (Column::MemberId, "member_id"),
    (Column::Kind, "kind"),
    (Column::Action, "action"),
    (Column::CurrentSelected, "current_selected"),
    (Column::CurrentLocationMemberId, "current_location_member_id"),
    (Column::DesiredSelected, "desired_selected"),
    (Column::DesiredLocationMemberId, "desired_location_member_id"),
    (Column::DependentMemberCount, "dependent_member_count"),
    (Column::HttpStatus, "http_status"),
    (Column::Attempts, "attempts"),
    (Column::Message, "message"),
    (Column::CurrentEffectiveNumber, "current_effective_number"),
    (Column::CurrentEffectiveQuality, "current_effective_quality"),
    (Column::DesiredEffectiveNumber, "desired_effective_number"),
    (Column::DesiredEffectiveQuality, "desired_effective_quality"),
];

impl Column {
    /// Every column, in the file's order.
    pub(crate) const ALL: [Column; 17] = {
        let mut all = [Column::Line; 17];
        let mut i = 0;
        while i < REPORT.len() {
            all[i] = REPORT[i].0;
            i += 1;
        }
        all
    };

    /// The header, in the file's order.
    pub(crate) fn header() -> [&'static str; 17] {
        REPORT.map(|(_, name)| name)
    }

    /// As the header spells it.
    pub(crate) fn name(self) -> &'static str {
        REPORT[self.index()].1
    }

    /// Its position in the file.
    pub(crate) fn index(self) -> usize {
        let i = self as usize;
        debug_assert_eq!(REPORT[i].0, self, "REPORT is in the order of Column");
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_named_once_in_its_place() {
        for (i, c) in Column::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        let mut names = Column::header().to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 17);
    }
}
