//! Members named as a person reads them — `Ana Silva <ana@example.com>`,
//! `Lobby Phone (workspace)` — from names the run already has (the ECBN GET's blocks,
//! the resolution's answers); the ID as the file wrote it only where no name is known.

use crate::ids::Kind;

/// `First Last`, from a block's name fields; `None` when it has none. A location
/// block's "." (its last name) is not a name.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<Box<str>> {
    let parts: Vec<&str> =
        [first, last].into_iter().flatten().map(str::trim).filter(|p| !p.is_empty() && *p != ".").collect();
    (!parts.is_empty()).then(|| parts.join(" ").into())
}

/// The noun of an API member type (`memberType`, an owner's `type`); `None` for a person.
pub(crate) fn noun_of_type(member_type: &str) -> Option<&'static str> {
    match Kind::parse(member_type) {
        Some(Kind::Person) => None,
        Some(k) => Some(k.noun()),
        None if member_type.eq_ignore_ascii_case(crate::ids::IdKind::HuntGroup.as_str()) => Some("hunt group"),
        None => Some("member"),
    }
}

/// A row's member: `Ana Silva <ana@example.com>`, `Ana Silva`, `Lobby Phone (workspace)`,
/// or the cell as written.
pub(crate) fn member(name: Option<&str>, email: Option<&str>, kind: Option<Kind>, written: &str) -> String {
    let noun = kind.filter(|k| *k != Kind::Person).map(Kind::noun);
    match (name, email, noun) {
        (Some(n), _, Some(noun)) => format!("{n} ({noun})"),
        (Some(n), Some(e), None) => format!("{n} <{e}>"),
        (Some(n), None, None) => n.to_string(),
        (None, Some(e), _) => e.to_string(),
        (None, None, _) => written.to_string(),
    }
}

/// A LOCATION_MEMBER_NUMBER target: `Lobby Phone, workspace`, `Ana Silva <ana@…>`.
pub(crate) fn target(name: &str, email: Option<&str>, noun: Option<&str>) -> String {
    match (email, noun) {
        (_, Some(noun)) => format!("{name}, {noun}"),
        (Some(e), None) => format!("{name} <{e}>"),
        (None, None) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(full_name(Some("Ana"), Some("Silva")).as_deref(), Some("Ana Silva"));
        assert_eq!(full_name(Some("HQ"), Some(".")).as_deref(), Some("HQ"));
        assert_eq!(full_name(Some(" "), None), None);
        let ana = member(Some("Ana Silva"), Some("ana@example.com"), Some(Kind::Person), "id");
        assert_eq!(ana, "Ana Silva <ana@example.com>");
        assert_eq!(member(Some("Lobby Phone"), None, Some(Kind::Workspace), "id"), "Lobby Phone (workspace)");
        assert_eq!(member(None, None, Some(Kind::VirtualLine), "Y2lz…"), "Y2lz…");
        assert_eq!(member(None, Some("bob@example.com"), None, "x"), "bob@example.com");
        assert_eq!(target("Lobby Phone", None, noun_of_type("PLACE")), "Lobby Phone, workspace");
        assert_eq!(target("Reception", None, noun_of_type("HUNT_GROUP")), "Reception, hunt group");
        assert_eq!(target("Lena Vogel", Some("lena@x"), noun_of_type("PEOPLE")), "Lena Vogel <lena@x>");
    }
}
