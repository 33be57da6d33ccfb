//! The desired-state file's columns, each named once, with the header names a reader
//! accepts; the export and the rollback file write them too.

/// A column of the desired-state file (also the export's first columns and the
/// rollback file's), with the header names a reader accepts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DesiredColumn {
    Member,
    Selected,
    LocationMember,
    Kind,
}

impl DesiredColumn {
    /// In the order this tool writes them.
    pub(crate) const ALL: [DesiredColumn; 4] =
        [DesiredColumn::Member, DesiredColumn::Selected, DesiredColumn::LocationMember, DesiredColumn::Kind];

    /// As this tool writes it.
    pub(crate) fn name(self) -> &'static str {
        self.names()[0]
    }

    /// Every header name a reader takes for it (lower case), its own first.
    pub(crate) fn names(self) -> &'static [&'static str] {
        match self {
            DesiredColumn::Member => &["member", "person", "personid", "email", "id"],
            DesiredColumn::Selected => &["selected"],
            DesiredColumn::LocationMember => &["location_member", "locationmemberid"],
            DesiredColumn::Kind => &["kind"],
        }
    }

    /// The header of a file in the desired-state format.
    pub(crate) fn header() -> [&'static str; 4] {
        DesiredColumn::ALL.map(DesiredColumn::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_this_tool_writes() {
        assert_eq!(DesiredColumn::header(), ["member", "selected", "location_member", "kind"]);
    }
}
