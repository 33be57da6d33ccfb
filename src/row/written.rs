//! A row's cells as written, for its report line.

use super::{Desired, MemberRef, TargetRef, Wish};
use crate::wire::Selected;

/// The four cells of a row as written (trimmed, a leading `'` stripped), in one
/// allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cells {
    text: Box<str>,
    /// Where the member, selected and location_member cells end in `text`.
    ends: [u32; 3],
}

impl Cells {
    pub(crate) fn new(member: &str, selected: &str, target: &str, kind: &str) -> Cells {
        let text: Box<str> = [member, selected, target, kind].concat().into();
        let end = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let ends =
            [end(member.len()), end(member.len() + selected.len()), end(member.len() + selected.len() + target.len())];
        Cells { text, ends }
    }

    fn cell(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    pub(crate) fn member(&self) -> &str {
        self.cell(0)
    }
    pub(crate) fn selected(&self) -> &str {
        self.cell(1)
    }
    pub(crate) fn target(&self) -> &str {
        self.cell(2)
    }
    pub(crate) fn kind(&self) -> &str {
        self.cell(3)
    }
}

/// A row's cells for its report line. Most rows of a big file are written as the tool
/// would spell their wish (IDs in their canonical spelling, `selected` in capitals, as
/// `export` writes them); those keep no text and their cells are spelled again from the
/// wish, so a million waiting rows hold no copy of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Written {
    Kept(Box<Cells>),
    /// The member, selected and location_member cells are the wish's own spelling.
    Wished,
}

impl Default for Written {
    fn default() -> Self {
        Written::Kept(Box::default())
    }
}

impl Written {
    /// The cells of a row that wants `wish`: kept only when the wish does not spell them.
    pub(crate) fn of(cells: Cells, wish: Option<&Desired>) -> Written {
        let spelled = wish.is_some_and(|d| {
            matches!(&d.member, MemberRef::Id(id) if id.spelled_as(cells.member()))
                && d.setting.selected().as_str() == cells.selected()
                && match d.setting.target() {
                    None => cells.target().is_empty(),
                    Some(TargetRef::Id(id)) => id.spelled_as(cells.target()),
                    Some(_) => false,
                }
        });
        if spelled { Written::Wished } else { Written::Kept(Box::new(cells)) }
    }

    /// The member, selected and location_member cells; `wish` is the row's own.
    pub(crate) fn cells<'a>(&'a self, wish: &'a Wish<'_>) -> [&'a str; 3] {
        match self {
            Written::Kept(c) => [c.member(), c.selected(), c.target()],
            Written::Wished => [
                wish.member_id.as_deref().unwrap_or(""),
                wish.selected.map_or("", Selected::as_str),
                wish.target_id.as_deref().unwrap_or(""),
            ],
        }
    }

    /// Keep the cells as text: the wish that spells them is about to go (the row is
    /// becoming invalid).
    pub(crate) fn keep(&mut self, wish: &Wish<'_>) {
        if *self == Written::Wished {
            let [member, selected, target] = self.cells(wish);
            *self = Written::Kept(Box::new(Cells::new(member, selected, target, "")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{IdKind, Kind, WebexId};
    use crate::row::{Setting, Stage};

    #[test]
    fn written_cells_come_back_as_written() {
        let w = Cells::new("ana@x.com", "", "+1 408 555 0101", "person");
        assert_eq!((w.member(), w.selected(), w.target(), w.kind()), ("ana@x.com", "", "+1 408 555 0101", "person"));
        let empty = Cells::default();
        assert_eq!((empty.member(), empty.kind()), ("", ""));
    }

    #[test]
    fn cells_the_wish_spells_are_not_kept() {
        let id = WebexId::encode(IdKind::People, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
        let wish = |member: &str| Desired {
            member: MemberRef::Id(WebexId::parse(member).unwrap()),
            kind: Kind::Person,
            setting: Setting::DirectLine,
        };
        let d = wish(&id);
        let w = Written::of(Cells::new(&id, "DIRECT_LINE", "", ""), Some(&d));
        assert_eq!(w, Written::Wished);
        assert_eq!(w.cells(&d.wish()), [id.as_str(), "DIRECT_LINE", ""]);
        // lower case and a stray target are kept as written; a padded ID is kept by the ID
        for (cells, kept) in [
            (Cells::new(&id, "direct_line", "", ""), true),
            (Cells::new(&id, "DIRECT_LINE", "x", ""), true),
            (Cells::new(&format!("{id}=="), "DIRECT_LINE", "", ""), false),
        ] {
            let d = wish(cells.member());
            let w = Written::of(cells.clone(), Some(&d));
            assert_eq!(w.cells(&d.wish()), [cells.member(), cells.selected(), cells.target()]);
            assert_eq!(matches!(w, Written::Kept(_)), kept, "{cells:?}");
        }
        // a row that becomes invalid keeps its cells as text before its wish goes
        let mut w = Written::Wished;
        w.keep(&d.wish());
        assert_eq!(w.cells(&Wish::default()), [id.as_str(), "DIRECT_LINE", ""]);
    }
}
