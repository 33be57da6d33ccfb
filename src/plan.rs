//! The pure core: cross-row checks, diff, skip rule. No I/O, no network; every decision
//! the engine makes about a row comes from these functions over plain values.

use crate::desired::{Desired, PersonRef, Row};
use crate::ids;
use crate::wire::{Dependencies, EcbnGet, Selected};
use std::collections::HashMap;

/// Cross-row checks: the same person twice (by UUID, or by email before resolution),
/// and a row pointing at its own person once IDs are known. Run before resolution and
/// again after it, so an email and an ID for the same person collide.
pub fn cross_check(rows: &mut [Row]) {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(key) = r.desired().and_then(identity_key) {
            seen.entry(key.into_owned()).or_default().push(i);
        }
    }
    let mut dupes: Vec<(usize, String)> = Vec::new();
    for idx in seen.values().filter(|v| v.len() > 1) {
        for &i in idx {
            let lines = idx.iter().map(|&j| rows[j].line);
            dupes.push((i, duplicate_message(rows[i].line, lines)));
        }
    }
    for (i, msg) in dupes {
        rows[i].invalidate(msg);
    }
    for r in rows.iter_mut() {
        let selfish = r
            .desired()
            .is_some_and(|d| d.target_uuid().is_some() && d.target_uuid() == d.person_uuid());
        if selfish {
            r.invalidate("location_member: the row points at its own person".into());
        }
    }
}

/// The message of a row whose person appears on other `lines` too.
pub fn duplicate_message(line: usize, lines: impl IntoIterator<Item = usize>) -> String {
    let others: Vec<String> = lines.into_iter().filter(|&l| l != line).map(|l| l.to_string()).collect();
    format!("person: the same person appears again on line {}", others.join(", "))
}

/// Who a row is about: the person's UUID, or their email before resolution.
pub fn identity_key(d: &Desired) -> Option<std::borrow::Cow<'_, str>> {
    Some(match &d.person {
        PersonRef::Id(id) => id.uuid.as_str().into(),
        PersonRef::Email(e) => match d.person_uuid() {
            Some(u) => u.into(),
            None => format!("email:{e}").into(),
        },
    })
}

/// UUID → line of the first valid row that sets LOCATION_MEMBER_NUMBER pointing at it.
pub fn in_file_targets(rows: &[Row]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in rows {
        if let Some(d) = r.desired()
            && d.selected == Selected::LocationMemberNumber
            && let Some(t) = d.target_uuid()
        {
            m.entry(t).or_insert(r.line);
        }
    }
    m
}

/// The current value as the tool understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub selected: Selected,
    /// Only set when `selected` is LOCATION_MEMBER_NUMBER.
    pub location_member_id: Option<String>,
}

/// Outcome of comparing a row with what the API returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    InSync,
    Differs,
    /// A `selected` the tool does not know (or none at all): never written.
    Unknown(String),
}

/// Understand the GET; `Err` carries the message for a `failed` row.
pub fn current(get: &EcbnGet) -> Result<Current, String> {
    let raw = get.selected.as_deref().unwrap_or("");
    let selected = Selected::parse(raw).ok_or_else(|| {
        format!("unknown current value `{}`: not changed", crate::desired::truncate(raw))
    })?;
    let location_member_id = match selected {
        Selected::LocationMemberNumber => get
            .location_member_info
            .as_ref()
            .and_then(|i| i.member_id.clone()),
        _ => None,
    };
    Ok(Current {
        selected,
        location_member_id,
    })
}

pub fn diff(desired: &Desired, get: &EcbnGet) -> Diff {
    let cur = match current(get) {
        Ok(c) => c,
        Err(m) => return Diff::Unknown(m),
    };
    if cur.selected != desired.selected {
        return Diff::Differs;
    }
    if desired.selected != Selected::LocationMemberNumber {
        return Diff::InSync;
    }
    match (&cur.location_member_id, &desired.target_id) {
        (Some(a), Some(b)) if ids::same_entity(a, b) => Diff::InSync,
        _ => Diff::Differs,
    }
}

/// Why a differing person is not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Dependents(u64),
    LocationDefault,
    InFile { line: usize },
}

impl Skip {
    pub fn message(&self) -> String {
        match self {
            Skip::Dependents(1) => {
                "1 member uses this person as ECBN (dependents rule)".to_string()
            }
            Skip::Dependents(n) => format!("{n} members use this person as ECBN (dependents rule)"),
            Skip::LocationDefault => {
                "this person's number is their location's ECBN (location-default rule)".into()
            }
            Skip::InFile { line } => format!(
                "line {line} of this file sets this person as its LOCATION_MEMBER_NUMBER target (in-file rule)"
            ),
        }
    }
}

/// The in-file rule: decided without a dependencies GET.
pub fn skip_in_file(d: &Desired, targets: &HashMap<String, usize>) -> Option<Skip> {
    d.person_uuid()
        .and_then(|u| targets.get(&u))
        .map(|&line| Skip::InFile { line })
}

/// The rule over the live dependencies read in this run.
pub fn skip_by_dependencies(deps: &Dependencies) -> Option<Skip> {
    if deps.dependent_member_count > 0 {
        Some(Skip::Dependents(deps.dependent_member_count))
    } else if deps.is_location_ecbn_default {
        Some(Skip::LocationDefault)
    } else {
        None
    }
}

/// A person skipped for dependents now may be free next run when this run moves one of
/// their dependents away: the current value of an updated row pointed at them.
pub fn rerun_needed<'a>(
    skipped_for_dependents: impl IntoIterator<Item = &'a str>,
    moved_away_from: impl IntoIterator<Item = &'a str>,
) -> bool {
    let moved: std::collections::HashSet<String> =
        moved_away_from.into_iter().map(ids::identity).collect();
    skipped_for_dependents
        .into_iter()
        .any(|p| moved.contains(&ids::identity(p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{ReadOptions, RowStatus, read_csv_bytes};
    use crate::ids::{IdKind, WebexId};
    use crate::wire::EcbnInfo;
    use base64::Engine as _;

    fn uuid(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }
    fn pid(n: u32) -> String {
        WebexId::encode(IdKind::People, &uuid(n))
    }
    fn rows(body: &str) -> Vec<Row> {
        let s = format!("person,selected,location_member\n{body}");
        read_csv_bytes(s.as_bytes(), "t.csv", &ReadOptions::default()).unwrap()
    }
    fn get(sel: &str, member: Option<&str>) -> EcbnGet {
        EcbnGet {
            selected: Some(sel.into()),
            location_member_info: member.map(|m| EcbnInfo {
                member_id: Some(m.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn duplicates_in_two_spellings_are_both_invalid() {
        let padded = base64::engine::general_purpose::STANDARD
            .encode(format!("ciscospark://us/PEOPLE/{}", uuid(1).to_uppercase()));
        let mut r = rows(&format!("{},DIRECT_LINE,\n{padded},LOCATION_ECBN,\n{},DIRECT_LINE,\n", pid(1), pid(2)));
        cross_check(&mut r);
        assert!(matches!(&r[0].status, RowStatus::Invalid(m) if m.contains("line 3")));
        assert!(matches!(&r[1].status, RowStatus::Invalid(m) if m.contains("line 2")));
        assert!(r[2].is_valid());
    }

    #[test]
    fn duplicate_emails_and_resolved_email_vs_id() {
        let mut r = rows(&format!("a@x.com,DIRECT_LINE,\nA@X.com,DIRECT_LINE,\nb@x.com,DIRECT_LINE,\n{},DIRECT_LINE,\n", pid(9)));
        cross_check(&mut r);
        assert!(!r[0].is_valid() && !r[1].is_valid());
        assert!(r[2].is_valid() && r[3].is_valid());
        // resolution says b@x.com is pid(9)
        if let RowStatus::Valid(d) = &mut r[2].status {
            d.person_id = Some(pid(9));
        }
        cross_check(&mut r);
        assert!(!r[2].is_valid() && !r[3].is_valid());
    }

    #[test]
    fn self_pointing_after_resolution() {
        let mut r = rows(&format!("{},LOCATION_MEMBER_NUMBER,me@x.com\n", pid(1)));
        cross_check(&mut r);
        assert!(r[0].is_valid());
        if let RowStatus::Valid(d) = &mut r[0].status {
            d.target_id = Some(pid(1));
        }
        cross_check(&mut r);
        assert!(matches!(&r[0].status, RowStatus::Invalid(m) if m.contains("own person")));
    }

    #[test]
    fn diff_compares_member_by_uuid_and_only_for_lmn() {
        let r = rows(&format!("{},LOCATION_MEMBER_NUMBER,{}\n{},DIRECT_LINE,\n", pid(1), pid(2), pid(3)));
        let lmn = r[0].desired().unwrap();
        let other_spelling = base64::engine::general_purpose::STANDARD.encode(format!(
            "ciscospark://urn:TEAM:us-east-2_a/PEOPLE/{}",
            uuid(2)
        ));
        assert_eq!(diff(lmn, &get("LOCATION_MEMBER_NUMBER", Some(&other_spelling))), Diff::InSync);
        assert_eq!(diff(lmn, &get("LOCATION_MEMBER_NUMBER", Some(&pid(4)))), Diff::Differs);
        assert_eq!(diff(lmn, &get("LOCATION_MEMBER_NUMBER", None)), Diff::Differs);
        assert_eq!(diff(lmn, &get("DIRECT_LINE", Some(&pid(2)))), Diff::Differs);
        let dl = r[1].desired().unwrap();
        // a member configured earlier does not count when selected is not LMN
        assert_eq!(diff(dl, &get("DIRECT_LINE", Some(&pid(2)))), Diff::InSync);
        assert_eq!(diff(dl, &get("none", None)), Diff::Differs);
        assert!(matches!(diff(dl, &get("FUTURE_OPTION", None)), Diff::Unknown(m) if m.contains("unknown current value")));
        let mut missing = get("x", None);
        missing.selected = None;
        assert!(matches!(diff(dl, &missing), Diff::Unknown(_)));
    }

    #[test]
    fn skip_rules() {
        let r = rows(&format!(
            "{},DIRECT_LINE,\n{},LOCATION_MEMBER_NUMBER,{}\n",
            pid(1), pid(2), pid(1)
        ));
        let targets = in_file_targets(&r);
        assert_eq!(skip_in_file(r[0].desired().unwrap(), &targets), Some(Skip::InFile { line: 3 }));
        assert_eq!(skip_in_file(r[1].desired().unwrap(), &targets), None);
        let deps = |n, loc| Dependencies {
            dependent_member_count: n,
            is_location_ecbn_default: loc,
            is_self_ecbn_default: true,
        };
        assert_eq!(skip_by_dependencies(&deps(2, false)), Some(Skip::Dependents(2)));
        assert_eq!(skip_by_dependencies(&deps(0, true)), Some(Skip::LocationDefault));
        assert_eq!(skip_by_dependencies(&deps(0, false)), None);
        assert!(Skip::Dependents(2).message().starts_with("2 members use this person as ECBN"));
        assert!(Skip::InFile { line: 3 }.message().contains("in-file rule"));
    }

    #[test]
    fn rerun_needed_when_a_dependent_moves_away() {
        let other = base64::engine::general_purpose::STANDARD
            .encode(format!("ciscospark://us/PEOPLE/{}", uuid(1)));
        assert!(rerun_needed([pid(1).as_str()], [other.as_str()]));
        assert!(!rerun_needed([pid(1).as_str()], [pid(2).as_str()]));
    }
}
